using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Exchange.Api.Storage.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class Peps : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "pep_versions",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    ChildId = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    Version = table.Column<int>(type: "integer", nullable: false),
                    Status = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    MeetingDate = table.Column<DateOnly>(type: "date", nullable: false),
                    NextReviewDate = table.Column<DateOnly>(type: "date", nullable: true),
                    Quality = table.Column<string>(type: "character varying(8)", maxLength: 8, nullable: true),
                    SealedContent = table.Column<byte[]>(type: "bytea", nullable: false),
                    SealedHealth = table.Column<byte[]>(type: "bytea", nullable: false),
                    SealedReturnReason = table.Column<byte[]>(type: "bytea", nullable: false),
                    SchoolId = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: true),
                    RecordedBy = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    RecordedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_pep_versions", x => x.Id);
                    table.ForeignKey(
                        name: "FK_pep_versions_children_ChildId",
                        column: x => x.ChildId,
                        principalTable: "children",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Restrict);
                });

            migrationBuilder.CreateIndex(
                name: "IX_pep_versions_ChildId_Version",
                table: "pep_versions",
                columns: new[] { "ChildId", "Version" },
                unique: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "pep_versions");
        }
    }
}
