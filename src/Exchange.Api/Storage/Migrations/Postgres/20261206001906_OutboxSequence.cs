using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace Exchange.Api.Storage.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class OutboxSequence : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropPrimaryKey(
                name: "PK_outbox_items",
                table: "outbox_items");

            migrationBuilder.AddColumn<long>(
                name: "Sequence",
                table: "outbox_items",
                type: "bigint",
                nullable: false)
                // An identity column added to a table with rows numbers them itself; no default that would collide.
                .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn);

            migrationBuilder.AddPrimaryKey(
                name: "PK_outbox_items",
                table: "outbox_items",
                column: "Sequence");

            migrationBuilder.CreateIndex(
                name: "IX_outbox_items_Id",
                table: "outbox_items",
                column: "Id",
                unique: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropPrimaryKey(
                name: "PK_outbox_items",
                table: "outbox_items");

            migrationBuilder.DropIndex(
                name: "IX_outbox_items_Id",
                table: "outbox_items");

            migrationBuilder.DropColumn(
                name: "Sequence",
                table: "outbox_items");

            migrationBuilder.AddPrimaryKey(
                name: "PK_outbox_items",
                table: "outbox_items",
                column: "Id");
        }
    }
}
