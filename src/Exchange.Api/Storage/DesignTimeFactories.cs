using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace Exchange.Api.Storage;

// Used only by `dotnet ef migrations add`; no database is contacted.
internal sealed class SqliteDesignTimeFactory : IDesignTimeDbContextFactory<SqliteExchangeDbContext>
{
    public SqliteExchangeDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<SqliteExchangeDbContext>().UseSqlite("Data Source=design.db").Options);
}

internal sealed class PostgresDesignTimeFactory : IDesignTimeDbContextFactory<PostgresExchangeDbContext>
{
    public PostgresExchangeDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<PostgresExchangeDbContext>().UseNpgsql("Host=localhost;Database=design").Options);
}
