using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Exchange.Api.Storage.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class ProcessingLimitAuthority : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "Authority",
                table: "processing_limits",
                type: "character varying(16)",
                maxLength: 16,
                nullable: false,
                defaultValue: "");

            // Limits already recorded: the operator's DPO is the only operator role that records them.
            migrationBuilder.Sql("UPDATE processing_limits SET \"Authority\" = CASE WHEN \"RecordedBy\" LIKE 'operator:%' THEN 'operator-dpo' ELSE 'council' END;");

            migrationBuilder.AddColumn<DateOnly>(
                name: "DataSubjectInformedOn",
                table: "processing_limits",
                type: "date",
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "Authority",
                table: "processing_limits");

            migrationBuilder.DropColumn(
                name: "DataSubjectInformedOn",
                table: "processing_limits");
        }
    }
}
