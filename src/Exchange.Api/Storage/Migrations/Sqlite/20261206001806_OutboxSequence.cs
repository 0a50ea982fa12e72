using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Exchange.Api.Storage.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class OutboxSequence : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            // By hand: SQLite rebuilds the table to change its key, and the rows already held must get distinct
            // sequence numbers in the order they occurred (EF's rebuild would give every one the default 0).
            migrationBuilder.Sql("""
                CREATE TABLE "ef_temp_outbox_items" (
                    "Sequence" INTEGER NOT NULL CONSTRAINT "PK_outbox_items" PRIMARY KEY AUTOINCREMENT,
                    "Id" TEXT NOT NULL,
                    "Type" TEXT NOT NULL,
                    "ChildId" TEXT NOT NULL,
                    "RaisedBy" TEXT NOT NULL,
                    "OccurredAt" INTEGER NOT NULL,
                    CONSTRAINT "FK_outbox_items_children_ChildId" FOREIGN KEY ("ChildId") REFERENCES "children" ("Id") ON DELETE RESTRICT
                );
                INSERT INTO "ef_temp_outbox_items" ("Id", "Type", "ChildId", "RaisedBy", "OccurredAt")
                    SELECT "Id", "Type", "ChildId", "RaisedBy", "OccurredAt" FROM "outbox_items" ORDER BY "OccurredAt", "Id";
                DROP TABLE "outbox_items";
                ALTER TABLE "ef_temp_outbox_items" RENAME TO "outbox_items";
                CREATE INDEX "IX_outbox_items_ChildId" ON "outbox_items" ("ChildId");
                CREATE INDEX "IX_outbox_items_OccurredAt" ON "outbox_items" ("OccurredAt");
                CREATE UNIQUE INDEX "IX_outbox_items_Id" ON "outbox_items" ("Id");
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropPrimaryKey(
                name: "PK_outbox_items",
                table: "outbox_items");

            migrationBuilder.DropIndex(
                name: "IX_outbox_items_Id",
                table: "outbox_items");

            migrationBuilder.DropColumn(
                name: "Sequence",
                table: "outbox_items");

            migrationBuilder.AddPrimaryKey(
                name: "PK_outbox_items",
                table: "outbox_items",
                column: "Id");
        }
    }
}
