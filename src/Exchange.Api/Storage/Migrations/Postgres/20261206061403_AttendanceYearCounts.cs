using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Exchange.Api.Storage.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class AttendanceYearCounts : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "attendance_year_counts",
                columns: table => new
                {
                    ChildId = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    SchoolId = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    YearStart = table.Column<DateOnly>(type: "date", nullable: false),
                    Attended = table.Column<int>(type: "integer", nullable: false),
                    AuthorisedAbsence = table.Column<int>(type: "integer", nullable: false),
                    UnauthorisedAbsence = table.Column<int>(type: "integer", nullable: false),
                    NotPossible = table.Column<int>(type: "integer", nullable: false),
                    FirstDate = table.Column<DateOnly>(type: "date", nullable: false),
                    LastDate = table.Column<DateOnly>(type: "date", nullable: false),
                    LastRecordedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_attendance_year_counts", x => new { x.ChildId, x.SchoolId, x.YearStart });
                    table.ForeignKey(
                        name: "FK_attendance_year_counts_children_ChildId",
                        column: x => x.ChildId,
                        principalTable: "children",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Restrict);
                });

            // Every attendance batch updates a row per child: room left on each page lets PostgreSQL update in place
            // (a heap-only tuple, no new index entry), as the counts change but never their key.
            migrationBuilder.Sql("ALTER TABLE attendance_year_counts SET (fillfactor = 70);");

            // The marks already held are counted once here, as the attendance batches count them from now on: the codes as
            // AttendanceCodes counts them on 2026-12-06 (a migration keeps its own copy; YearCountsMigrationTests compares).
            const string Attended = "'/', '\\', 'L', 'K', 'V', 'P', 'W', 'B'";
            const string Authorised = "'C1', 'C2', 'C', 'M', 'J1', 'S', 'T', 'R', 'I', 'E'";
            const string Unauthorised = "'G', 'N', 'O', 'U'";
            static string Counted(string codes) => $"sum(CASE WHEN \"Code\" IN ({codes}) THEN 1 ELSE 0 END)";
            migrationBuilder.Sql($"""
                INSERT INTO attendance_year_counts ("ChildId", "SchoolId", "YearStart", "Attended", "AuthorisedAbsence", "UnauthorisedAbsence", "NotPossible", "FirstDate", "LastDate", "LastRecordedAt")
                SELECT "ChildId", "SchoolId", make_date(CAST(extract(year FROM "Date") AS integer) - CASE WHEN extract(month FROM "Date") >= 9 THEN 0 ELSE 1 END, 9, 1),
                    {Counted(Attended)}, {Counted(Authorised)},
                    {Counted(Unauthorised)}, count(*) - {Counted(Attended)} - {Counted(Authorised)} - {Counted(Unauthorised)},
                    min("Date"), max("Date"), max("RecordedAt")
                FROM attendance_marks WHERE "ReplacedAt" IS NULL
                GROUP BY "ChildId", "SchoolId", make_date(CAST(extract(year FROM "Date") AS integer) - CASE WHEN extract(month FROM "Date") >= 9 THEN 0 ELSE 1 END, 9, 1);
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "attendance_year_counts");
        }
    }
}
