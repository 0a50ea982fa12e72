// The test host (WebApplicationFactory<Program>) needs a public Program type.
public partial class Program;
