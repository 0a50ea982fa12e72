using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Exchange.Api.Storage.Migrations.Sqlite
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
                    Id = table.Column<Guid>(type: "TEXT", nullable: false),
                    ReviewId = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    SurvivorChildId = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    MergedChildId = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    MovedIdentifierIds = table.Column<string>(type: "TEXT", nullable: false),
                    MovedCareEpisodeIds = table.Column<string>(type: "TEXT", nullable: false),
                    MergedAt = table.Column<long>(type: "INTEGER", nullable: false),
                    MergedBy = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_child_merges", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "children",
                columns: table => new
                {
                    Id = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    CreatedAt = table.Column<long>(type: "INTEGER", nullable: false),
                    CreatedByOrganisation = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    MergedIntoChildId = table.Column<string>(type: "TEXT", maxLength: 32, nullable: true),
                    MergedAt = table.Column<long>(type: "INTEGER", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_children", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "identity_reviews",
                columns: table => new
                {
                    Id = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    Reason = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    ConflictKey = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    Status = table.Column<int>(type: "INTEGER", nullable: false),
                    CandidateChildIds = table.Column<string>(type: "TEXT", nullable: false),
                    CreatedAt = table.Column<long>(type: "INTEGER", nullable: false),
                    RaisedByOrganisation = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    ClosedAt = table.Column<long>(type: "INTEGER", nullable: true),
                    ClosedBy = table.Column<string>(type: "TEXT", maxLength: 200, nullable: true),
                    SurvivorChildId = table.Column<string>(type: "TEXT", maxLength: 32, nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_identity_reviews", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "organisations",
                columns: table => new
                {
                    Id = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    Kind = table.Column<int>(type: "INTEGER", nullable: false),
                    Name = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false),
                    LaNumber = table.Column<string>(type: "TEXT", maxLength: 3, nullable: true),
                    Active = table.Column<bool>(type: "INTEGER", nullable: false),
                    CreatedAt = table.Column<long>(type: "INTEGER", nullable: false),
                    DeactivatedAt = table.Column<long>(type: "INTEGER", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_organisations", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "care_episodes",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "TEXT", nullable: false),
                    ChildId = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    ResponsibleLaNumber = table.Column<string>(type: "TEXT", maxLength: 3, nullable: false),
                    StartDate = table.Column<DateOnly>(type: "TEXT", nullable: false),
                    EndDate = table.Column<DateOnly>(type: "TEXT", nullable: true),
                    RecordedAt = table.Column<long>(type: "INTEGER", nullable: false)
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
                    Id = table.Column<Guid>(type: "TEXT", nullable: false),
                    ChildId = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    Type = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    BlindIndex = table.Column<byte[]>(type: "BLOB", nullable: false),
                    Sealed = table.Column<byte[]>(type: "BLOB", nullable: false),
                    IsTemporary = table.Column<bool>(type: "INTEGER", nullable: false),
                    LinkedAt = table.Column<long>(type: "INTEGER", nullable: false),
                    LinkedByOrganisation = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false)
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
                    Id = table.Column<Guid>(type: "TEXT", nullable: false),
                    ReviewId = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    Type = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    BlindIndex = table.Column<byte[]>(type: "BLOB", nullable: false),
                    Sealed = table.Column<byte[]>(type: "BLOB", nullable: false),
                    IsTemporary = table.Column<bool>(type: "INTEGER", nullable: false),
                    MatchedChildId = table.Column<string>(type: "TEXT", maxLength: 32, nullable: true)
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
