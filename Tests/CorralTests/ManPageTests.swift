@testable import corral
import Testing

@Suite("ManPage")
struct ManPageTests {
    static let macros: Set = [".TH", ".SH", ".SS", ".PP", ".IP", ".TP", ".nf", ".fi", ".RS", ".RE", ".br", ".ad", ".nh"]

    static func page() -> ManPage { ManPage(title: "CORRAL", section: 1, source: "corral 0.1.0", manual: "User Commands") }

    /// The page without its .TH header.
    static func body(_ page: ManPage) -> String {
        String(page.roff.split(separator: "\n", maxSplits: 3, omittingEmptySubsequences: false)[3])
    }

    static let command = ManPage.Command(
        name: "ps", abstract: "list running servers", synopsis: "corral ps [--json]",
        discussion: """
            Lists the servers, one line each:

                NAME  the server's name
                UNIT  its scope unit

            .dotted lines and 'quoted ones are text, not requests; `corral gc` cleans up.
            """,
        options: [
            ManPage.Option(names: ["-p", "--property"], value: "NAME=VALUE", help: "A property.\n\nMay be repeated."),
            ManPage.Option(names: ["--json"], value: nil, help: "Print JSON."),
        ],
        footer: """
            EXIT STATUS
                0    success
                64   invalid options

            EXAMPLES
                corral ps
                corral ps --json | jq '.[]'
            """)

    @Test func headerIsLeftAlignedAndUnhyphenated() {
        #expect(Self.page().roff == ".TH \"CORRAL\" 1 \"\" \"corral 0.1.0\" \"User Commands\"\n.ad l\n.nh\n")
    }

    @Test("text escapes what roff would read as its own", arguments: [
        ("a-b", "a\\-b"),
        (#"C:\path"#, #"C:\epath"#),
        ("café ✓", "caf\\[u00E9] \\[u2713]"),
        ("😀", "\\[u1F600]"),
    ])
    func escaping(text: String, expected: String) {
        #expect(ManPage.escape(text) == expected)
    }

    @Test func proseIsFilledAndTablesAndIndentedLinesAreKept() {
        var page = Self.page()
        page.text("""
            First line of prose
            continues here.

                indented code
            back to prose
            0    a table row
            """)
        #expect(Self.body(page) == """
            First line of prose
            continues here.
            .PP
            .nf
                indented code
            .fi
            back to prose
            .nf
            0    a table row
            .fi

            """)
    }

    @Test func aTrailingBlankLineLeavesNoEmptyParagraph() {
        var page = Self.page()
        page.text("prose\n\n")
        #expect(Self.body(page) == "prose\n")
    }

    @Test func aCommandIsASubsectionWithItsOptionsAndFooterSections() {
        var page = Self.page()
        page.command(Self.command, program: "corral")
        let roff = Self.body(page)
        #expect(roff.hasPrefix(".SS \"corral ps\"\n\\fBcorral ps\\fR [\\-\\-json]\n.PP\nList running servers.\n.PP\nLists the servers"))
        #expect(roff.contains(".nf\n    NAME  the server's name\n    UNIT  its scope unit\n.fi\n"))
        #expect(roff.contains("\\&.dotted lines and 'quoted ones are text, not requests; \\fBcorral gc\\fR cleans up.\n"))
        #expect(roff.contains(".TP\n\\fB\\-p\\fR, \\fB\\-\\-property\\fR \\fINAME=VALUE\\fR\nA property.\n.IP\nMay be repeated.\n"))
        #expect(roff.contains(".TP\n\\fB\\-\\-json\\fR\nPrint JSON.\n"))
        #expect(roff.contains(".PP\n\\fBExit status\\fR\n.RS\n.nf\n0    success\n64   invalid options\n.fi\n.RE\n"))
        // Examples are kept line by line, even without a table's spaces.
        #expect(roff.contains(".PP\n\\fBExamples\\fR\n.RS\n.nf\ncorral ps\ncorral ps \\-\\-json | jq '.[]'\n.fi\n.RE\n"))
    }

    @Test func everyLineStartingWithADotIsAKnownMacroAndFillModeIsBalanced() {
        var page = Self.page()
        page.section("NAME")
        page.text("corral - contain MCP servers")
        page.section("COMMANDS")
        page.command(Self.command, program: "corral")
        var filling = true
        for line in page.roff.split(separator: "\n") where line.hasPrefix(".") || line.hasPrefix("'") {
            let macro = String(line.prefix { $0 != " " })
            #expect(Self.macros.contains(macro), "\(line)")
            if macro == ".nf" { #expect(filling); filling = false }
            if macro == ".fi" { #expect(!filling); filling = true }
        }
        #expect(filling, "no-fill mode left on")
        #expect(page.roff.contains(".SH \"NAME\"\ncorral \\- contain MCP servers\n"))
    }

    @Test func helpTextSplitsIntoItsSections() {
        let sections = ManPage.sections(of: "EXIT STATUS\n    0 on success\n    64 usage\n\nEXAMPLES\n    corral ps")
        #expect(sections.map(\.heading) == ["EXIT STATUS", "EXAMPLES"])
        #expect(sections[0].body == "    0 on success\n    64 usage\n")
        #expect(sections[1].body == "    corral ps")
    }
}
