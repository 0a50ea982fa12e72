using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Exchange.Api.Storage.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class BlindIndexVersions : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "IndexKeyVersion",
                table: "identity_review_identifiers",
                type: "TEXT",
                maxLength: 64,
                nullable: false,
                defaultValue: "v1");

            migrationBuilder.AddColumn<string>(
                name: "IndexKeyVersion",
                table: "child_identifiers",
                type: "TEXT",
                maxLength: 64,
                nullable: false,
                defaultValue: "v1");

            migrationBuilder.CreateIndex(
                name: "IX_child_identifiers_IndexKeyVersion",
                table: "child_identifiers",
                column: "IndexKeyVersion");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_child_identifiers_IndexKeyVersion",
                table: "child_identifiers");

            migrationBuilder.DropColumn(
                name: "IndexKeyVersion",
                table: "identity_review_identifiers");

            migrationBuilder.DropColumn(
                name: "IndexKeyVersion",
                table: "child_identifiers");
        }
    }
}
