using System;
using System.Collections.Generic;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Exchange.Api.Storage.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class HandoversAndDpoAlerts : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "care_handovers",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    ChildId = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    FromLaNumber = table.Column<string>(type: "character varying(3)", maxLength: 3, nullable: false),
                    ToLaNumber = table.Column<string>(type: "character varying(3)", maxLength: 3, nullable: false),
                    Categories = table.Column<List<string>>(type: "text[]", nullable: false),
                    RecordedBy = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    RecordedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    RevokedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    RevokedBy = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_care_handovers", x => x.Id);
                    table.ForeignKey(
                        name: "FK_care_handovers_children_ChildId",
                        column: x => x.ChildId,
                        principalTable: "children",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Restrict);
                });

            migrationBuilder.CreateTable(
                name: "dpo_alerts",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    Kind = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    ChildId = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    RaisedBy = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    Organisations = table.Column<List<string>>(type: "text[]", nullable: false),
                    RaisedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_dpo_alerts", x => x.Id);
                    table.ForeignKey(
                        name: "FK_dpo_alerts_children_ChildId",
                        column: x => x.ChildId,
                        principalTable: "children",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Restrict);
                });

            migrationBuilder.CreateIndex(
                name: "IX_care_handovers_ChildId_ToLaNumber",
                table: "care_handovers",
                columns: new[] { "ChildId", "ToLaNumber" });

            migrationBuilder.CreateIndex(
                name: "IX_dpo_alerts_ChildId",
                table: "dpo_alerts",
                column: "ChildId");

            migrationBuilder.CreateIndex(
                name: "IX_dpo_alerts_RaisedAt",
                table: "dpo_alerts",
                column: "RaisedAt");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "care_handovers");

            migrationBuilder.DropTable(
                name: "dpo_alerts");
        }
    }
}
