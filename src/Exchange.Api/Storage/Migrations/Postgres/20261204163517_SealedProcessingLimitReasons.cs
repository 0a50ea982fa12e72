using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Exchange.Api.Storage.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class SealedProcessingLimitReasons : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            // Reasons were plain text, which erasure could not shred. SQL cannot seal them under the children's keys,
            // so they are dropped; earlier rows keep an empty SealedReason, reported as "no reason held" (null).
            migrationBuilder.DropColumn(
                name: "Reason",
                table: "processing_limits");

            migrationBuilder.AddColumn<byte[]>(
                name: "SealedReason",
                table: "processing_limits",
                type: "bytea",
                nullable: false,
                defaultValue: new byte[0]);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "SealedReason",
                table: "processing_limits");

            migrationBuilder.AddColumn<string>(
                name: "Reason",
                table: "processing_limits",
                type: "character varying(500)",
                maxLength: 500,
                nullable: false,
                defaultValue: "");
        }
    }
}
