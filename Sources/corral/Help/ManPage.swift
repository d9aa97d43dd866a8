/// A manual page in man(7) roff, written from the same text `corral help` prints.
///
/// Help text is plain text pre-wrapped at 100 columns: prose is refilled to the reader's terminal; lines indented
/// deeper than their block, lines with a run of spaces inside (tables) and examples are kept as written.
package struct ManPage: Sendable {
    /// One command's manual: what its help page is made of.
    package struct Command: Sendable {
        package var name: String
        package var abstract: String
        package var synopsis: String
        package var discussion: String
        package var options: [Option]
        /// Further sections, each a heading at column 0 and its body indented below it (EXIT STATUS, EXAMPLES).
        package var footer: String

        package init(name: String, abstract: String, synopsis: String, discussion: String, options: [Option], footer: String) {
            self.name = name
            self.abstract = abstract
            self.synopsis = synopsis
            self.discussion = discussion
            self.options = options
            self.footer = footer
        }
    }

    /// One option: its spellings, the placeholder of its value (nil for a flag) and its help.
    package struct Option: Sendable {
        package var names: [String]
        package var value: String?
        package var help: String

        package init(names: [String], value: String?, help: String) {
            self.names = names
            self.value = value
            self.help = help
        }
    }

    /// The page so far.
    package private(set) var roff: String

    /// Starts a page: `.TH TITLE SECTION "" SOURCE MANUAL` (no date, so the same binary writes the same page).
    package init(title: String, section: Int, source: String, manual: String) {
        // Left-aligned and unhyphenated: option names and paths must survive copy and paste.
        roff = ".TH \(Self.quoted(title)) \(section) \"\" \(Self.quoted(source)) \(Self.quoted(manual))\n.ad l\n.nh\n"
    }

    /// A section heading (.SH), such as NAME or EXAMPLES.
    package mutating func section(_ title: String) {
        roff += ".SH \(Self.quoted(title))\n"
    }

    /// A subsection heading (.SS).
    package mutating func subsection(_ title: String) {
        roff += ".SS \(Self.quoted(title))\n"
    }

    /// A block of help text. `verbatim` keeps every line as written (examples); `paragraph` is the macro a blank
    /// line becomes (.IP inside an option's description keeps its indentation).
    package mutating func text(_ block: String, verbatim: Bool = false, paragraph: String = ".PP") {
        let lines = block.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let margin = lines.filter { !$0.allSatisfy(\.isWhitespace) }.map(Self.indentation).min() ?? 0
        var out = ""
        var filling = true
        for line in lines.map({ String($0.dropFirst(margin)) }) {
            if line.allSatisfy(\.isWhitespace) {
                if !filling { out += ".fi\n" }
                filling = true
                out += paragraph + "\n"
                continue
            }
            let kept = verbatim || Self.indentation(line) > 0 || line.drop(while: { $0 == " " }).contains("  ")
            if kept == filling {
                out += kept ? ".nf\n" : ".fi\n"
                filling = !kept
            }
            out += Self.textLine(line, code: !kept)
        }
        if !filling { out += ".fi\n" }
        // A trailing blank line made a paragraph macro with nothing after it.
        while out.hasSuffix(paragraph + "\n") { out.removeLast(paragraph.count + 1) }
        roff += out
    }

    /// A tagged paragraph (.TP): an option's spellings in bold, its value in italics, then its description.
    package mutating func item(_ option: Option) {
        let names = option.names.map { "\\fB" + Self.escape($0) + "\\fR" }.joined(separator: ", ")
        roff += ".TP\n" + names + (option.value.map { " \\fI" + Self.escape($0) + "\\fR" } ?? "") + "\n"
        text(option.help, paragraph: ".IP")
    }

    /// A command as a subsection: its synopsis, what it does, its options and its further sections.
    package mutating func command(_ command: Command, program: String) {
        subsection(program + " " + command.name)
        let invocation = program + " " + command.name
        let rest = command.synopsis.hasPrefix(invocation) ? String(command.synopsis.dropFirst(invocation.count)) : " " + command.synopsis
        roff += "\\fB" + Self.escape(invocation) + "\\fR" + Self.escape(rest) + "\n.PP\n"
        text(command.abstract.prefix(1).uppercased() + command.abstract.dropFirst() + ".")
        if !command.discussion.isEmpty {
            roff += ".PP\n"
            text(command.discussion)
        }
        for option in command.options { item(option) }
        for (heading, body) in Self.sections(of: command.footer) {
            roff += ".PP\n\\fB" + Self.escape(heading.prefix(1) + heading.dropFirst().lowercased()) + "\\fR\n.RS\n"
            text(body, verbatim: heading == "EXAMPLES")
            roff += ".RE\n"
        }
    }

    /// Splits help text into its sections: each heading at column 0 with the lines below it.
    package static func sections(of text: String) -> [(heading: String, body: String)] {
        var sections: [(heading: String, body: String)] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if let first = line.first, first != " " {
                sections.append((String(line), ""))
            } else if !sections.isEmpty {
                sections[sections.count - 1].body += (sections[sections.count - 1].body.isEmpty ? "" : "\n") + line
            }
        }
        return sections
    }

    private static func indentation(_ line: String) -> Int { line.prefix { $0 == " " }.count }

    /// A roff text line: escaped, a leading `.` or `'` (which would be read as a request) guarded, and with `code`,
    /// what help text puts in backquotes in bold.
    private static func textLine(_ line: String, code: Bool) -> String {
        var text = escape(line)
        let parts = text.split(separator: "`", omittingEmptySubsequences: false)
        if code, parts.count > 1, parts.count % 2 == 1 {
            text = parts.enumerated().map { $0.offset % 2 == 1 ? "\\fB" + $0.element + "\\fR" : String($0.element) }.joined()
        }
        return (text.hasPrefix(".") || text.hasPrefix("'") ? "\\&" : "") + text + "\n"
    }

    /// `\` as `\e`, `-` as `\-` (a hyphen-minus that survives copy and paste), anything beyond ASCII as `\[uXXXX]`.
    package static func escape(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\\": out += "\\e"
            case "-": out += "\\-"
            case _ where scalar.value > 0x7F:
                let hex = String(scalar.value, radix: 16, uppercase: true)
                out += "\\[u" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex + "]"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// A macro argument in double quotes (a quote inside becomes `\(dq`).
    private static func quoted(_ text: String) -> String {
        "\"" + escape(text).replacing("\"", with: "\\(dq") + "\""
    }
}
