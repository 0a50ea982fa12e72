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
                    Code = table.Column<string>(type: "character varying(2)", maxLength: 2, nullable: false),
                    Sessions = table.Column<int>(type: "integer", nullable: false),
                    FirstDate = table.Column<DateOnly>(type: "date", nullable: false),
                    LastDate = table.Column<DateOnly>(type: "date", nullable: false),
                    LastRecordedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_attendance_year_counts", x => new { x.ChildId, x.SchoolId, x.YearStart, x.Code });
                    table.ForeignKey(
                        name: "FK_attendance_year_counts_children_ChildId",
                        column: x => x.ChildId,
                        principalTable: "children",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Restrict);
                });

            // The marks already held are counted once here; from now on the attendance batches keep the counts.
            migrationBuilder.Sql("""
                INSERT INTO attendance_year_counts ("ChildId", "SchoolId", "YearStart", "Code", "Sessions", "FirstDate", "LastDate", "LastRecordedAt")
                SELECT "ChildId", "SchoolId", make_date(CAST(extract(year FROM "Date") AS integer) - CASE WHEN extract(month FROM "Date") >= 9 THEN 0 ELSE 1 END, 9, 1), "Code", count(*), min("Date"), max("Date"), max("RecordedAt")
                FROM attendance_marks WHERE "ReplacedAt" IS NULL
                GROUP BY "ChildId", "SchoolId", make_date(CAST(extract(year FROM "Date") AS integer) - CASE WHEN extract(month FROM "Date") >= 9 THEN 0 ELSE 1 END, 9, 1), "Code";
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
