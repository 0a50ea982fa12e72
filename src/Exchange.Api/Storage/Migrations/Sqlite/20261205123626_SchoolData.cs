using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Exchange.Api.Storage.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class SchoolData : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AlterColumn<string>(
                name: "ChildId",
                table: "dpo_alerts",
                type: "TEXT",
                maxLength: 32,
                nullable: true,
                oldClrType: typeof(string),
                oldType: "TEXT",
                oldMaxLength: 32);

            migrationBuilder.CreateTable(
                name: "attendance_marks",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "TEXT", nullable: false),
                    ChildId = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    SchoolId = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    Date = table.Column<DateOnly>(type: "TEXT", nullable: false),
                    Session = table.Column<string>(type: "TEXT", maxLength: 2, nullable: false),
                    Code = table.Column<string>(type: "TEXT", maxLength: 2, nullable: false),
                    MinutesLate = table.Column<int>(type: "INTEGER", nullable: true),
                    BatchId = table.Column<Guid>(type: "TEXT", nullable: false),
                    RecordedAt = table.Column<long>(type: "INTEGER", nullable: false),
                    ReplacedAt = table.Column<long>(type: "INTEGER", nullable: true),
                    ReplacedBy = table.Column<Guid>(type: "TEXT", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_attendance_marks", x => x.Id);
                    table.ForeignKey(
                        name: "FK_attendance_marks_children_ChildId",
                        column: x => x.ChildId,
                        principalTable: "children",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Restrict);
                });

            migrationBuilder.CreateTable(
                name: "idempotency_records",
                columns: table => new
                {
                    OrganisationId = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    KeyHash = table.Column<byte[]>(type: "BLOB", nullable: false),
                    Operation = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    RequestHash = table.Column<byte[]>(type: "BLOB", nullable: false),
                    Status = table.Column<int>(type: "INTEGER", nullable: false),
                    ResponseJson = table.Column<string>(type: "TEXT", nullable: false),
                    CreatedAt = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_idempotency_records", x => new { x.OrganisationId, x.KeyHash });
                });

            migrationBuilder.CreateTable(
                name: "outbox_items",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "TEXT", nullable: false),
                    Type = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    ChildId = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    RaisedBy = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    OccurredAt = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_outbox_items", x => x.Id);
                    table.ForeignKey(
                        name: "FK_outbox_items_children_ChildId",
                        column: x => x.ChildId,
                        principalTable: "children",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Restrict);
                });

            migrationBuilder.CreateTable(
                name: "roll_checks",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "TEXT", nullable: false),
                    SchoolId = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    Pupils = table.Column<int>(type: "INTEGER", nullable: false),
                    Matches = table.Column<int>(type: "INTEGER", nullable: false),
                    CheckedAt = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_roll_checks", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "roll_check_matches",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "TEXT", nullable: false),
                    RollCheckId = table.Column<Guid>(type: "TEXT", nullable: false),
                    SchoolId = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    ChildId = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    CheckedOn = table.Column<DateOnly>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_roll_check_matches", x => x.Id);
                    table.ForeignKey(
                        name: "FK_roll_check_matches_children_ChildId",
                        column: x => x.ChildId,
                        principalTable: "children",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Restrict);
                    table.ForeignKey(
                        name: "FK_roll_check_matches_roll_checks_RollCheckId",
                        column: x => x.RollCheckId,
                        principalTable: "roll_checks",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Restrict);
                });

            migrationBuilder.CreateIndex(
                name: "IX_attendance_marks_ChildId_Date",
                table: "attendance_marks",
                columns: new[] { "ChildId", "Date" });

            migrationBuilder.CreateIndex(
                name: "IX_attendance_marks_ChildId_SchoolId_Date_Session",
                table: "attendance_marks",
                columns: new[] { "ChildId", "SchoolId", "Date", "Session" },
                unique: true,
                filter: "\"ReplacedAt\" IS NULL");

            migrationBuilder.CreateIndex(
                name: "IX_idempotency_records_CreatedAt",
                table: "idempotency_records",
                column: "CreatedAt");

            migrationBuilder.CreateIndex(
                name: "IX_outbox_items_ChildId",
                table: "outbox_items",
                column: "ChildId");

            migrationBuilder.CreateIndex(
                name: "IX_outbox_items_OccurredAt",
                table: "outbox_items",
                column: "OccurredAt");

            migrationBuilder.CreateIndex(
                name: "IX_roll_check_matches_ChildId_SchoolId_CheckedOn",
                table: "roll_check_matches",
                columns: new[] { "ChildId", "SchoolId", "CheckedOn" });

            migrationBuilder.CreateIndex(
                name: "IX_roll_check_matches_RollCheckId",
                table: "roll_check_matches",
                column: "RollCheckId");

            migrationBuilder.CreateIndex(
                name: "IX_roll_checks_SchoolId_CheckedAt",
                table: "roll_checks",
                columns: new[] { "SchoolId", "CheckedAt" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "attendance_marks");

            migrationBuilder.DropTable(
                name: "idempotency_records");

            migrationBuilder.DropTable(
                name: "outbox_items");

            migrationBuilder.DropTable(
                name: "roll_check_matches");

            migrationBuilder.DropTable(
                name: "roll_checks");

            migrationBuilder.AlterColumn<string>(
                name: "ChildId",
                table: "dpo_alerts",
                type: "TEXT",
                maxLength: 32,
                nullable: false,
                defaultValue: "",
                oldClrType: typeof(string),
                oldType: "TEXT",
                oldMaxLength: 32,
                oldNullable: true);
        }
    }
}
