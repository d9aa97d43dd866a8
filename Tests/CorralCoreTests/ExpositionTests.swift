@testable import CorralCore
import Testing

@Suite("Exposition")
struct ExpositionTests {
    @Test("label values escape backslash, double quote and newline, and nothing else", arguments: [
        ("plain", "plain"),
        (#"back\slash"#, #"back\\slash"#),
        (#"say "hi""#, #"say \"hi\""#),
        ("two\nlines", #"two\nlines"#),
        ("crlf\r\nend", "crlf\r\\nend"),
        (#"all \ " and"# + "\n", #"all \\ \" and\n"#),
        ("ünïcode ✓ stays", "ünïcode ✓ stays"),
    ])
    func labelEscaping(value: String, expected: String) {
        #expect(Exposition.escapeLabel(value) == expected)
    }

    @Test func helpEscapesBackslashAndNewlineButNotQuotes() {
        #expect(Exposition.escapeHelp(#"a "quoted" \ path"# + "\nnext") == #"a "quoted" \\ path\nnext"#)
    }

    @Test("values are written the way Prometheus parses them", arguments: [
        (Exposition.Value.integer(0), "0"),
        (.integer(UInt64.max), "18446744073709551615"),
        (.real(0.25), "0.25"),
        (.real(1_732_800_000.125), "1732800000.125"),
        (.real(.infinity), "+Inf"),
        (.real(-.infinity), "-Inf"),
        (.real(.nan), "NaN"),
    ])
    func values(value: Exposition.Value, expected: String) {
        #expect(Exposition.format(value) == expected)
    }

    @Test func aFamilyIsHelpThenTypeThenItsSamples() {
        var exposition = Exposition()
        exposition.add("x_bytes", .gauge, help: "Bytes \\ of \"x\".", samples: [
            Exposition.Sample([("server", "a\"b"), ("unit", #"corral-a\x22b-1.scope"#)], .integer(7)),
            Exposition.Sample([], .real(.infinity)),
        ])
        exposition.add("y_total", .counter, help: "Nothing to say.", samples: [])
        exposition.add("z_total", .counter, help: "Counted.", samples: [Exposition.Sample([], .integer(1))])
        #expect(exposition.text == """
            # HELP x_bytes Bytes \\\\ of "x".
            # TYPE x_bytes gauge
            x_bytes{server="a\\"b",unit="corral-a\\\\x22b-1.scope"} 7
            x_bytes +Inf
            # HELP z_total Counted.
            # TYPE z_total counter
            z_total 1

            """)
    }
}
