using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Exchange.Api.Storage.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class PerChildKeysAndReviewRecords : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_identity_reviews_ConflictKey",
                table: "identity_reviews");

            migrationBuilder.AddColumn<string>(
                name: "LinkedIdentifierIds",
                table: "identity_reviews",
                type: "TEXT",
                nullable: false,
                defaultValue: "[]");

            migrationBuilder.AddColumn<string>(
                name: "MergedChildIds",
                table: "identity_reviews",
                type: "TEXT",
                nullable: false,
                defaultValue: "[]");

            migrationBuilder.AddColumn<long>(
                name: "ErasedAt",
                table: "children",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.CreateTable(
                name: "data_keys",
                columns: table => new
                {
                    OwnerId = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    KeyId = table.Column<byte[]>(type: "BLOB", nullable: false),
                    Version = table.Column<int>(type: "INTEGER", nullable: false),
                    KekKeyId = table.Column<string>(type: "TEXT", maxLength: 400, nullable: false),
                    Algorithm = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    WrappedKey = table.Column<byte[]>(type: "BLOB", nullable: false),
                    CreatedAt = table.Column<long>(type: "INTEGER", nullable: false),
                    RewrappedAt = table.Column<long>(type: "INTEGER", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_data_keys", x => x.OwnerId);
                });

            migrationBuilder.CreateTable(
                name: "key_checks",
                columns: table => new
                {
                    Name = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    Fingerprint = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_key_checks", x => x.Name);
                });

            migrationBuilder.CreateIndex(
                name: "IX_identity_reviews_ConflictKey",
                table: "identity_reviews",
                column: "ConflictKey",
                unique: true,
                filter: "\"Status\" = 0");

            migrationBuilder.CreateIndex(
                name: "IX_data_keys_KekKeyId",
                table: "data_keys",
                column: "KekKeyId");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "data_keys");

            migrationBuilder.DropTable(
                name: "key_checks");

            migrationBuilder.DropIndex(
                name: "IX_identity_reviews_ConflictKey",
                table: "identity_reviews");

            migrationBuilder.DropColumn(
                name: "LinkedIdentifierIds",
                table: "identity_reviews");

            migrationBuilder.DropColumn(
                name: "MergedChildIds",
                table: "identity_reviews");

            migrationBuilder.DropColumn(
                name: "ErasedAt",
                table: "children");

            migrationBuilder.CreateIndex(
                name: "IX_identity_reviews_ConflictKey",
                table: "identity_reviews",
                column: "ConflictKey");
        }
    }
}
