import CorralCore
import Testing

@Suite("JSON")
struct JSONTests {
    private func syntaxError(_ text: String) -> JSON.SyntaxError? {
        do {
            _ = try JSON(parsing: text)
            return nil
        } catch {
            return error
        }
    }

    // MARK: round trips

    @Test("compact documents round-trip byte for byte", arguments: [
        #"{"z":1,"a":2,"m":[true,false,null]}"#,
        #"{"numbers":[1.50,-0,1e10,-2.5E-3,0,123456789012345678901234567890,1E+2]}"#,
        #"[]"#,
        #"{}"#,
        #"[[],{},"",[{}]]"#,
        #""just a string""#,
        #"-0"#,
        #"null"#,
        #"{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"x","arguments":{"b":"é","a":"😀"}}}"#,
    ])
    func roundTrip(text: String) throws {
        #expect(try JSON(parsing: text).compactText == text)
    }

    @Test("numbers keep their text")
    func numberText() throws {
        let value = try JSON(parsing: "[1.50, -0, 1e10, 100]")
        #expect(value == .array([.number("1.50"), .number("-0"), .number("1e10"), .number("100")]))
        #expect(value.arrayValue?[3].integerValue == 100)
        #expect(value.arrayValue?[3].unsignedValue == 100)
        #expect(value.arrayValue?[0].integerValue == nil)
        #expect(value.arrayValue?[1].integerValue == 0)
        #expect(JSON.number("-1").unsignedValue == nil)
        #expect(JSON.number("-1").integerValue == -1)
        #expect(JSON.number("18446744073709551615").unsignedValue == .max)
        #expect(JSON.number("18446744073709551615").integerValue == nil)
        #expect(JSON.string("1").integerValue == nil)
        #expect(JSON(-42) == .number("-42"))
        #expect(JSON(-42).integerValue == -42)
    }

    @Test("object keys keep their order")
    func keyOrder() throws {
        let value = try JSON(parsing: #"{ "b": 1, "a": 2, "c": 3 }"#)
        guard case .object(let members) = value else {
            Issue.record("not an object")
            return
        }
        #expect(members.map(\.key) == ["b", "a", "c"])
        #expect(value.compactText == #"{"b":1,"a":2,"c":3}"#)
    }

    @Test("whitespace is dropped by compactText")
    func whitespace() throws {
        let text = " \r\n\t{ \"a\" :\n [ 1 , 2 ] , \"b\" : { } }\n "
        #expect(try JSON(parsing: text).compactText == #"{"a":[1,2],"b":{}}"#)
    }

    // MARK: writing

    @Test("compactText of nested values")
    func compactNested() {
        let value = JSON.object([
            .init("name", .string("time")),
            .init("args", .array([.string("-y"), .number("2"), .bool(true), .null])),
            .init("env", .object([.init("A", .string("1"))])),
            .init("empty", .array([])),
            .init("none", .object([])),
        ])
        #expect(value.compactText == #"{"name":"time","args":["-y",2,true,null],"env":{"A":"1"},"empty":[],"none":{}}"#)
    }

    @Test("prettyText indents by level")
    func pretty() {
        let value = JSON.object([
            .init("a", .array([.number("1"), .object([.init("b", .null)])])),
            .init("c", .object([])),
            .init("d", .array([])),
        ])
        #expect(value.prettyText() == """
        {
          "a": [
            1,
            {
              "b": null
            }
          ],
          "c": {},
          "d": []
        }
        """)
        #expect(JSON.array([.bool(false)]).prettyText(indent: 4) == "[\n    false\n]")
        #expect(JSON.string("x").prettyText() == #""x""#)
    }

    @Test("prettyText parses back to the same value")
    func prettyRoundTrip() throws {
        let text = #"{"a":[1,{"b":null,"c":"\n"}],"d":{"e":[[]]}}"#
        let value = try JSON(parsing: text)
        #expect(try JSON(parsing: value.prettyText()) == value)
        #expect(try JSON(parsing: value.prettyText()).compactText == text)
    }

    // MARK: strings

    @Test("strings are escaped on output")
    func writeEscapes() {
        #expect(JSON.string("a\nb").compactText == #""a\nb""#)
        #expect(JSON.string("\u{01}").compactText == #""\u0001""#)
        #expect(JSON.string("\u{1F}").compactText == #""\u001f""#)
        #expect(JSON.string("\"").compactText == #""\"""#)
        #expect(JSON.string("\\").compactText == #""\\""#)
        #expect(JSON.string("\r\t").compactText == #""\r\t""#)
        #expect(JSON.string("/é😀\u{7F}").compactText == "\"/é😀\u{7F}\"")
        #expect(JSON.object([.init("k\"ey", .null)]).compactText == #"{"k\"ey":null}"#)
    }

    @Test("escapes are decoded on input", arguments: [
        (#""a\nb""#, "a\nb"),
        (#""\u0001""#, "\u{01}"),
        (#""\"""#, "\""),
        (#""\\""#, "\\"),
        (#""\/""#, "/"),
        (#""\b\f\r\t""#, "\u{08}\u{0C}\r\t"),
        (#""\ud83d\ude00""#, "😀"),
        (#""\uD83D\uDE00!""#, "😀!"),
        (#""\u00e9t\u00E9""#, "été"),
        (#""plain ü text""#, "plain ü text"),
        (#""x\u0041y""#, "xAy"),
    ])
    func readEscapes(text: String, expected: String) throws {
        #expect(try JSON(parsing: text) == .string(expected))
    }

    @Test("strings with escapes round-trip")
    func escapeRoundTrip() throws {
        let original = "line1\nline2\t\"quoted\" \\ \u{01} 😀"
        let value = JSON.string(original)
        #expect(try JSON(parsing: value.compactText) == value)
    }

    // MARK: subscripts

    @Test("subscript reads members and returns nil otherwise")
    func subscriptGet() throws {
        let value = try JSON(parsing: #"{"a":"x","b":[true],"a":"y"}"#)
        #expect(value["a"] == .string("y"))  // the last of a repeated key
        #expect(value["b"]?.arrayValue?.first?.boolValue == true)
        #expect(value["missing"] == nil)
        #expect(value["a"]?.stringValue == "y")
        #expect(JSON.array([])["a"] == nil)
        #expect(JSON.string("s").stringValue == "s")
        #expect(JSON.null.stringValue == nil)
    }

    @Test("subscript set replaces in place and appends new keys")
    func subscriptSet() throws {
        var value = try JSON(parsing: #"{"a":1,"b":2,"c":3}"#)
        value["b"] = .string("two")
        #expect(value.compactText == #"{"a":1,"b":"two","c":3}"#)
        value["d"] = .null
        #expect(value.compactText == #"{"a":1,"b":"two","c":3,"d":null}"#)
        value["a"] = nil
        #expect(value.compactText == #"{"b":"two","c":3,"d":null}"#)
        value["zzz"] = nil
        #expect(value.compactText == #"{"b":"two","c":3,"d":null}"#)
        value["c"]?["x"] = .bool(true)  // not an object: unchanged
        #expect(value["c"] == .number("3"))
    }

    @Test("nested subscript set")
    func nestedSet() throws {
        var value = try JSON(parsing: #"{"mcpServers":{"time":{"command":"uvx"}},"other":1}"#)
        value["mcpServers"]?["time"]?["command"] = .string("corral")
        value["mcpServers"]?["time"]?["args"] = .array([.string("run")])
        #expect(value.compactText == #"{"mcpServers":{"time":{"command":"corral","args":["run"]}},"other":1}"#)
    }

    @Test("subscript set on a non-object does nothing")
    func setOnArray() {
        var value = JSON.array([.null])
        value["a"] = .null
        #expect(value == .array([.null]))
    }

    // MARK: errors

    @Test("errors carry line and column")
    func lineAndColumn() throws {
        let error = try #require(syntaxError("{\n  \"a\": tru\n}"))
        #expect(error.line == 2)
        #expect(error.column == 8)
        #expect(error.description.hasPrefix("line 2, column 8: "))
    }

    @Test("columns count characters, not bytes")
    func columnCountsCharacters() throws {
        let error = try #require(syntaxError("[\"é😀\", x]"))
        #expect(error.line == 1)
        #expect(error.column == 8)
    }

    @Test("malformed documents are refused with a reason and position", arguments: [
        ("[1,]", 1, 4, "unexpected character"),
        ("01", 1, 3, "leading zero"),
        ("-01", 1, 4, "leading zero"),
        ("\"abc", 1, 5, "unterminated string"),
        (#""\ud83d""#, 1, 8, "surrogate"),
        (#""\ud83dx""#, 1, 8, "surrogate"),
        (#""\ud83d\u0041""#, 1, 14, "surrogate"),
        ("\"a\u{01}b\"", 1, 3, "control character"),
        ("\"a\nb\"", 1, 3, "control character"),
        ("{} x", 1, 4, "after the JSON value"),
        ("", 1, 1, "end of input"),
        ("   ", 1, 4, "end of input"),
        ("[1 2]", 1, 4, "expected ','"),
        ("{\"a\" 1}", 1, 6, "expected ':'"),
        ("{a:1}", 1, 2, "string key"),
        ("{\"a\":1,}", 1, 8, "string key"),
        ("[1", 1, 3, "unterminated array"),
        ("{\"a\":1", 1, 7, "unterminated object"),
        ("nul", 1, 1, "expected null"),
        ("True", 1, 1, "unexpected character"),
        ("1.", 1, 3, "digits after '.'"),
        (".5", 1, 1, "unexpected character"),
        ("1e", 1, 3, "exponent"),
        ("-", 1, 2, "invalid number"),
        ("+1", 1, 1, "unexpected character"),
        (#""\x""#, 1, 4, "invalid escape"),
        (#""\u12""#, 1, 4, "\\u escape"),
        ("\"\\", 1, 3, "unterminated escape"),
    ])
    func malformed(text: String, line: Int, column: Int, reason: String) throws {
        let error = try #require(syntaxError(text))
        #expect(error.line == line)
        #expect(error.column == column)
        #expect(error.reason.contains(reason), "reason: \(error.reason)")
    }

    @Test("a lone low surrogate is refused")
    func loneLowSurrogate() {
        #expect(syntaxError(#""\udc00""#) != nil)
    }

    @Test("deep nesting is refused without crashing")
    func deepNesting() throws {
        let error = try #require(syntaxError(String(repeating: "[", count: 600)))
        #expect(error.reason.contains("nested too deeply"))
        #expect(error.line == 1)
        #expect(error.column == 513)
        let objects = String(repeating: #"{"a":"#, count: 600)
        #expect(syntaxError(objects)?.reason.contains("nested too deeply") == true)
    }

    @Test("nesting up to the limit is accepted")
    func nestingAtLimit() throws {
        let depth = 512
        let text = String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
        #expect(try JSON(parsing: text).compactText == text)
        let tooDeep = String(repeating: "[", count: depth + 1) + String(repeating: "]", count: depth + 1)
        #expect(syntaxError(tooDeep) != nil)
    }
}
