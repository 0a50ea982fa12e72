using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Exchange.Api.Storage.Migrations.Sqlite
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
                    ChildId = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    SchoolId = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    YearStart = table.Column<DateOnly>(type: "TEXT", nullable: false),
                    Code = table.Column<string>(type: "TEXT", maxLength: 2, nullable: false),
                    Sessions = table.Column<int>(type: "INTEGER", nullable: false),
                    FirstDate = table.Column<DateOnly>(type: "TEXT", nullable: false),
                    LastDate = table.Column<DateOnly>(type: "TEXT", nullable: false),
                    LastRecordedAt = table.Column<long>(type: "INTEGER", nullable: false)
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
                SELECT "ChildId", "SchoolId", CASE WHEN CAST(substr("Date", 6, 2) AS INTEGER) >= 9 THEN substr("Date", 1, 4) ELSE printf('%04d', CAST(substr("Date", 1, 4) AS INTEGER) - 1) END || '-09-01', "Code", count(*), min("Date"), max("Date"), max("RecordedAt")
                FROM attendance_marks WHERE "ReplacedAt" IS NULL
                GROUP BY "ChildId", "SchoolId", CASE WHEN CAST(substr("Date", 6, 2) AS INTEGER) >= 9 THEN substr("Date", 1, 4) ELSE printf('%04d', CAST(substr("Date", 1, 4) AS INTEGER) - 1) END || '-09-01', "Code";
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
