using System;
using System.Collections.Generic;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Exchange.Api.Storage.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class Initial : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "child_merges",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    ReviewId = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    SurvivorChildId = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    MergedChildId = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    MovedIdentifierIds = table.Column<List<Guid>>(type: "uuid[]", nullable: false),
                    MovedCareEpisodeIds = table.Column<List<Guid>>(type: "uuid[]", nullable: false),
                    MergedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    MergedBy = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_child_merges", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "children",
                columns: table => new
                {
                    Id = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    CreatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    CreatedByOrganisation = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    MergedIntoChildId = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: true),
                    MergedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_children", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "identity_reviews",
                columns: table => new
                {
                    Id = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    Reason = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    ConflictKey = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    Status = table.Column<int>(type: "integer", nullable: false),
                    CandidateChildIds = table.Column<List<string>>(type: "text[]", nullable: false),
                    CreatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    RaisedByOrganisation = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    ClosedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    ClosedBy = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: true),
                    SurvivorChildId = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_identity_reviews", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "organisations",
                columns: table => new
                {
                    Id = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    Kind = table.Column<int>(type: "integer", nullable: false),
                    Name = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    LaNumber = table.Column<string>(type: "character varying(3)", maxLength: 3, nullable: true),
                    Active = table.Column<bool>(type: "boolean", nullable: false),
                    CreatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    DeactivatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_organisations", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "care_episodes",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    ChildId = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    ResponsibleLaNumber = table.Column<string>(type: "character varying(3)", maxLength: 3, nullable: false),
                    StartDate = table.Column<DateOnly>(type: "date", nullable: false),
                    EndDate = table.Column<DateOnly>(type: "date", nullable: true),
                    RecordedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_care_episodes", x => x.Id);
                    table.ForeignKey(
                        name: "FK_care_episodes_children_ChildId",
                        column: x => x.ChildId,
                        principalTable: "children",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Restrict);
                });

            migrationBuilder.CreateTable(
                name: "child_identifiers",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    ChildId = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    Type = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    BlindIndex = table.Column<byte[]>(type: "bytea", nullable: false),
                    Sealed = table.Column<byte[]>(type: "bytea", nullable: false),
                    IsTemporary = table.Column<bool>(type: "boolean", nullable: false),
                    LinkedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    LinkedByOrganisation = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_child_identifiers", x => x.Id);
                    table.ForeignKey(
                        name: "FK_child_identifiers_children_ChildId",
                        column: x => x.ChildId,
                        principalTable: "children",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Restrict);
                });

            migrationBuilder.CreateTable(
                name: "identity_review_identifiers",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    ReviewId = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    Type = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    BlindIndex = table.Column<byte[]>(type: "bytea", nullable: false),
                    Sealed = table.Column<byte[]>(type: "bytea", nullable: false),
                    IsTemporary = table.Column<bool>(type: "boolean", nullable: false),
                    MatchedChildId = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_identity_review_identifiers", x => x.Id);
                    table.ForeignKey(
                        name: "FK_identity_review_identifiers_identity_reviews_ReviewId",
                        column: x => x.ReviewId,
                        principalTable: "identity_reviews",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_care_episodes_ChildId",
                table: "care_episodes",
                column: "ChildId");

            migrationBuilder.CreateIndex(
                name: "IX_child_identifiers_ChildId",
                table: "child_identifiers",
                column: "ChildId");

            migrationBuilder.CreateIndex(
                name: "IX_child_identifiers_Type_BlindIndex",
                table: "child_identifiers",
                columns: new[] { "Type", "BlindIndex" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_identity_review_identifiers_ReviewId",
                table: "identity_review_identifiers",
                column: "ReviewId");

            migrationBuilder.CreateIndex(
                name: "IX_identity_reviews_ConflictKey",
                table: "identity_reviews",
                column: "ConflictKey");

            migrationBuilder.CreateIndex(
                name: "IX_identity_reviews_Status_CreatedAt",
                table: "identity_reviews",
                columns: new[] { "Status", "CreatedAt" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "care_episodes");

            migrationBuilder.DropTable(
                name: "child_identifiers");

            migrationBuilder.DropTable(
                name: "child_merges");

            migrationBuilder.DropTable(
                name: "identity_review_identifiers");

            migrationBuilder.DropTable(
                name: "organisations");

            migrationBuilder.DropTable(
                name: "children");

            migrationBuilder.DropTable(
                name: "identity_reviews");
        }
    }
}
