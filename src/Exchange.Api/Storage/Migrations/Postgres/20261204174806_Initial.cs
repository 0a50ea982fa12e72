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
                name: "audit_heads",
                columns: table => new
                {
                    Name = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    TreeSize = table.Column<long>(type: "bigint", nullable: false),
                    RootHash = table.Column<byte[]>(type: "bytea", nullable: false),
                    RecordedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_audit_heads", x => x.Name);
                });

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
                    MergedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    ErasedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_children", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "data_keys",
                columns: table => new
                {
                    OwnerId = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    KeyId = table.Column<byte[]>(type: "bytea", nullable: false),
                    Version = table.Column<int>(type: "integer", nullable: false),
                    KekKeyId = table.Column<string>(type: "character varying(400)", maxLength: 400, nullable: false),
                    Algorithm = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    WrappedKey = table.Column<byte[]>(type: "bytea", nullable: false),
                    CreatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    RewrappedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    ErasedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_data_keys", x => x.OwnerId);
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
                    SurvivorChildId = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: true),
                    MergedChildIds = table.Column<List<string>>(type: "text[]", nullable: false),
                    LinkedIdentifierIds = table.Column<List<Guid>>(type: "uuid[]", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_identity_reviews", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "key_checks",
                columns: table => new
                {
                    Name = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    Fingerprint = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_key_checks", x => x.Name);
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
                name: "break_glass_grants",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    ChildId = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    OrganisationId = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    Subject = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    SealedReason = table.Column<byte[]>(type: "bytea", nullable: false),
                    StartsAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    ExpiresAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_break_glass_grants", x => x.Id);
                    table.ForeignKey(
                        name: "FK_break_glass_grants_children_ChildId",
                        column: x => x.ChildId,
                        principalTable: "children",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Restrict);
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
                name: "child_identifiers",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    ChildId = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    Type = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    BlindIndex = table.Column<byte[]>(type: "bytea", nullable: false),
                    IndexKeyVersion = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false, defaultValue: "v1"),
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
                name: "child_relationships",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    ChildId = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    Kind = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    OrganisationId = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    StartDate = table.Column<DateOnly>(type: "date", nullable: false),
                    EndDate = table.Column<DateOnly>(type: "date", nullable: true),
                    RecordedBy = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    RecordedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_child_relationships", x => x.Id);
                    table.ForeignKey(
                        name: "FK_child_relationships_children_ChildId",
                        column: x => x.ChildId,
                        principalTable: "children",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Restrict);
                });

            migrationBuilder.CreateTable(
                name: "consents",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    ChildId = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    GivenBy = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    Categories = table.Column<List<string>>(type: "text[]", nullable: false),
                    Recipients = table.Column<List<string>>(type: "text[]", nullable: false),
                    Purposes = table.Column<List<string>>(type: "text[]", nullable: false),
                    From = table.Column<DateOnly>(type: "date", nullable: false),
                    Until = table.Column<DateOnly>(type: "date", nullable: true),
                    WithdrawnAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    RecordedBy = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    RecordedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_consents", x => x.Id);
                    table.ForeignKey(
                        name: "FK_consents_children_ChildId",
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

            migrationBuilder.CreateTable(
                name: "processing_limits",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    ChildId = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    Kind = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    Active = table.Column<bool>(type: "boolean", nullable: false),
                    Purposes = table.Column<List<string>>(type: "text[]", nullable: false),
                    SealedReason = table.Column<byte[]>(type: "bytea", nullable: false),
                    RecordedBy = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    Authority = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    DataSubjectInformedOn = table.Column<DateOnly>(type: "date", nullable: true),
                    RecordedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_processing_limits", x => x.Id);
                    table.ForeignKey(
                        name: "FK_processing_limits_children_ChildId",
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
                    IndexKeyVersion = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false, defaultValue: "v1"),
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
                name: "IX_break_glass_grants_ChildId_OrganisationId_Subject_ExpiresAt",
                table: "break_glass_grants",
                columns: new[] { "ChildId", "OrganisationId", "Subject", "ExpiresAt" });

            migrationBuilder.CreateIndex(
                name: "IX_break_glass_grants_StartsAt",
                table: "break_glass_grants",
                column: "StartsAt");

            migrationBuilder.CreateIndex(
                name: "IX_care_episodes_ChildId",
                table: "care_episodes",
                column: "ChildId");

            migrationBuilder.CreateIndex(
                name: "IX_care_handovers_ChildId_ToLaNumber",
                table: "care_handovers",
                columns: new[] { "ChildId", "ToLaNumber" });

            migrationBuilder.CreateIndex(
                name: "IX_child_identifiers_ChildId",
                table: "child_identifiers",
                column: "ChildId");

            migrationBuilder.CreateIndex(
                name: "IX_child_identifiers_IndexKeyVersion",
                table: "child_identifiers",
                column: "IndexKeyVersion");

            migrationBuilder.CreateIndex(
                name: "IX_child_identifiers_Type_BlindIndex",
                table: "child_identifiers",
                columns: new[] { "Type", "BlindIndex" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_child_relationships_ChildId_Kind_OrganisationId_StartDate",
                table: "child_relationships",
                columns: new[] { "ChildId", "Kind", "OrganisationId", "StartDate" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_child_relationships_OrganisationId_Kind",
                table: "child_relationships",
                columns: new[] { "OrganisationId", "Kind" });

            migrationBuilder.CreateIndex(
                name: "IX_consents_ChildId",
                table: "consents",
                column: "ChildId");

            migrationBuilder.CreateIndex(
                name: "IX_data_keys_KekKeyId",
                table: "data_keys",
                column: "KekKeyId");

            migrationBuilder.CreateIndex(
                name: "IX_dpo_alerts_ChildId",
                table: "dpo_alerts",
                column: "ChildId");

            migrationBuilder.CreateIndex(
                name: "IX_dpo_alerts_RaisedAt",
                table: "dpo_alerts",
                column: "RaisedAt");

            migrationBuilder.CreateIndex(
                name: "IX_identity_review_identifiers_ReviewId",
                table: "identity_review_identifiers",
                column: "ReviewId");

            migrationBuilder.CreateIndex(
                name: "IX_identity_reviews_ConflictKey",
                table: "identity_reviews",
                column: "ConflictKey",
                unique: true,
                filter: "\"Status\" = 0");

            migrationBuilder.CreateIndex(
                name: "IX_identity_reviews_Status_CreatedAt",
                table: "identity_reviews",
                columns: new[] { "Status", "CreatedAt" });

            migrationBuilder.CreateIndex(
                name: "IX_processing_limits_ChildId_Kind_RecordedAt",
                table: "processing_limits",
                columns: new[] { "ChildId", "Kind", "RecordedAt" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "audit_heads");

            migrationBuilder.DropTable(
                name: "break_glass_grants");

            migrationBuilder.DropTable(
                name: "care_episodes");

            migrationBuilder.DropTable(
                name: "care_handovers");

            migrationBuilder.DropTable(
                name: "child_identifiers");

            migrationBuilder.DropTable(
                name: "child_merges");

            migrationBuilder.DropTable(
                name: "child_relationships");

            migrationBuilder.DropTable(
                name: "consents");

            migrationBuilder.DropTable(
                name: "data_keys");

            migrationBuilder.DropTable(
                name: "dpo_alerts");

            migrationBuilder.DropTable(
                name: "identity_review_identifiers");

            migrationBuilder.DropTable(
                name: "key_checks");

            migrationBuilder.DropTable(
                name: "organisations");

            migrationBuilder.DropTable(
                name: "processing_limits");

            migrationBuilder.DropTable(
                name: "identity_reviews");

            migrationBuilder.DropTable(
                name: "children");
        }
    }
}
