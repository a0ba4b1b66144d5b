import Foundation
import Testing
@testable import ModelStore

@Suite struct JSONStringTests {
    /// Every string reads back as itself through a real JSON parser.
    @Test func literalsReadBackAsTheSameString() throws {
        let strings = ["plain", "", "two \"quoted\"", "back\\slash", "line\nbreak\r\ttab", "\u{01}\u{1f}\u{7f}", "Ünïcødé 👕", "/"]
        for string in strings {
            let literal = JSONString.literal(string)
            let decoded = try JSONSerialization.jsonObject(with: Data("[\(literal)]".utf8)) as? [String]
            #expect(decoded == [string], "\(literal)")
        }
    }

    /// The exact bytes, which safetensors headers depend on: named escapes, lower-case \u00xx.
    @Test func escapesAreTheShortOnes() {
        #expect(JSONString.literal("a\"b\\c\nd\u{1}e\u{1b}") == #""a\"b\\c\nd\u0001e\u001b""#)
        #expect(JSONString.literal("T-shirt/top") == "\"T-shirt/top\"")
    }
}
