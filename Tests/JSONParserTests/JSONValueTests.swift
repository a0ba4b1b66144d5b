import Foundation
import JSONParser
import Testing

/// The parser against Foundation's JSONSerialization, an independent implementation, on the
/// documents clients send; and its errors.
@Suite struct JSONValueTests {
    /// The same document as JSONSerialization reads it, in JSONValue's terms.
    private static func reference(_ text: String) throws -> JSONValue {
        func convert(_ value: Any) -> JSONValue {
            switch value {
            case is NSNull: return .null
            case let number as NSNumber where String(cString: number.objCType) == "c": return .bool(number.boolValue)
            case let number as NSNumber: return .number(number.doubleValue)
            case let string as String: return .string(string)
            case let array as [Any]:
                let values = array.map(convert)
                if !values.isEmpty, values.allSatisfy({ if case .number = $0 { true } else { false } }) {
                    return .numbers(values.map { if case .number(let v) = $0 { v } else { 0 } })
                }
                return .array(values)
            case let object as [String: Any]: return .object(JSONObject(object.mapValues(convert)))
            default: return .null
            }
        }
        return convert(try JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed]))
    }

    @Test(arguments: [
        #"{"inputs":[{"name":"input","shape":[2,3],"datatype":"FP32","data":[[1,2.5,-3e-2],[4E2,0,-0.0]]}]}"#,
        #"{"id":"a\"b\\c\u00e9\ud83d\ude00","parameters":{"binary_data_output":true},"outputs":[{"name":"logits"}]}"#,
        #"[1, "two", null, true, false, [], {}, [[]], 1.7976931348623157e308, 5e-324, 123456789012345678]"#,
        #"  {"nested": {"deeper": [1, [2, [3, {"x": [4.25]}]]]}}  "#,
        #""just a string""#, "42", "true", "null",
    ])
    func parsesAsJSONSerializationDoes(text: String) throws {
        let parsed = try JSONValue.parse(Array(text.utf8)[...])
        #expect(parsed == (try Self.reference(text)))
    }

    /// Every number reads to the double glibc's strtod gives for the same text: the shortest
    /// round-trip forms Swift and Python print, 17-digit and longer forms, exponents, subnormals,
    /// overflow to infinity and underflow to zero.
    @Test func numbersReadAsStrtodReadsThem() throws {
        var generator = SystemRandomNumberGenerator()
        var texts = ["0", "-0", "0.1", "1e400", "-1e400", "1e-400", "4.9e-324", "2.4703282292062328e-324",
                     "1.7976931348623157e308", "1.7976931348623159e308", "9007199254740993", "123456789012345678901234567890",
                     "0.30000000000000004", "2.2250738585072011e-308", "1E+2", "-12.5e-3",
                     "0." + String(repeating: "3", count: 800)]
        for _ in 0..<2000 {
            let value = Double(bitPattern: generator.next() & 0x7FEF_FFFF_FFFF_FFFF) * (Bool.random(using: &generator) ? 1 : -1)
            texts.append("\(value)")
            texts.append(String(format: "%.17g", value))
            texts.append("\(Double(Float(Double.random(in: -4...4, using: &generator))))")
        }
        let parsed = try JSONValue.parse(Array(("[" + texts.joined(separator: ",") + "]").utf8)[...])
        guard case .numbers(let numbers) = parsed else { Issue.record("not an array of numbers: \(parsed.summary)"); return }
        #expect(numbers.count == texts.count)
        for (text, number) in zip(texts, numbers) {
            let reference = strtod(text, nil)
            #expect(number.bitPattern == reference.bitPattern, "\(text): \(number) against strtod's \(reference)")
        }
    }

    @Test func keepsArraysOfNumbersFlat() throws {
        let parsed = try JSONValue.parse(Array(#"{"data":[0.5,1,2]}"#.utf8)[...])
        #expect(parsed["data"] == .numbers([0.5, 1, 2]))
        #expect(parsed["data"]?.elements == [.number(0.5), .number(1), .number(2)])
        #expect(try JSONValue.parse(Array("[1,\"x\"]".utf8)[...]) == .array([.number(1), .string("x")]))
    }

    @Test func reportsExactIntegers() {
        #expect(JSONValue.number(3).exactInt == 3)
        #expect(JSONValue.number(3.5).exactInt == nil)
        #expect(JSONValue.bool(true).exactInt == nil)
        #expect(JSONValue.string("3").exactInt == nil)
    }

    @Test(arguments: [
        ("", "premature eof"), ("{", "premature eof"), (#"{"a":}"#, "unallowed token"), ("[1,]", "unallowed token"),
        ("[1] [2]", "trailing garbage"), ("\"\u{1}\"", "invalid"), ("[01]", "expect ','"), ("nul", "invalid string"),
    ])
    func refusesMalformedDocumentsSayingWhere(text: String, expected: String) {
        do {
            _ = try JSONValue.parse(Array(text.utf8)[...])
            Issue.record("\(text) parsed")
        } catch let error as JSONParseError {
            #expect(error.description.lowercased().contains(expected), "\(text): \(error)")
            #expect(error.description.contains("at byte"), "\(error)")
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func refusesInvalidUTF8AndDepthBeyondTheLimit() {
        #expect(throws: JSONParseError.self) { try JSONValue.parse([0x22, 0xFF, 0xFE, 0x22][...]) }
        let deep = String(repeating: "[", count: 65) + String(repeating: "]", count: 65)
        #expect { try JSONValue.parse(Array(deep.utf8)[...]) } throws: { error in
            (error as? JSONParseError)?.description == "the document nests arrays and objects deeper than 64 levels"
        }
        let fine = String(repeating: "[", count: 64) + String(repeating: "]", count: 64)
        #expect((try? JSONValue.parse(Array(fine.utf8)[...])) != nil)
    }
}

/// Objects keep their members in order; a repeated key counts with its last value.
@Suite struct JSONObjectTests {
    @Test func aRepeatedKeyCountsWithItsLastValue() throws {
        let parsed = try JSONValue.parse(Array(#"{"a": 1, "b": [2], "a": "three"}"#.utf8)[...])
        #expect(parsed["a"] == .string("three"))
        #expect(parsed["b"] == .numbers([2]))
        #expect(parsed["c"] == nil)
        guard case .object(let object) = parsed else { Issue.record("not an object: \(parsed)"); return }
        #expect(object.members.map(\.key) == ["a", "b", "a"])
        #expect(object.dictionary == ["a": .string("three"), "b": .numbers([2])])
    }

    @Test func objectsAreEqualWhateverTheOrderOfTheirMembers() throws {
        let one = try JSONValue.parse(Array(#"{"x": 1, "y": {"z": null}}"#.utf8)[...])
        let other = try JSONValue.parse(Array(#"{"y": {"z": null}, "x": 1}"#.utf8)[...])
        let different = try JSONValue.parse(Array(#"{"y": {"z": 0}, "x": 1}"#.utf8)[...])
        #expect(one == other)
        #expect(one != different)
    }
}
