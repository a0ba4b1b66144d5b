import Foundation
import Testing
@testable import FixServeService
import ModelStore
import Numerics

/// The TorchServe-style predictions body and the content types it accepts.
@Suite struct PredictionsTests {
    @Test func answersTheTopFiveAsTorchServeDoes() throws {
        let labels = ["zero", "one", "two \"quoted\"", "three", "four", "five", "six"]
        let logits: [Float] = [0.5, 3, 1, -2, 2, 0, 1]
        let literals = labels.map { Array(JSONString.literal($0).utf8) }
        let body = logits.withUnsafeBufferPointer { ModelService.topClassesJSON(logits: $0, labels: literals) }
        let object = try #require(try JSONSerialization.jsonObject(with: Data(body)) as? [String: Double])
        #expect(Set(object.keys) == ["one", "four", "two \"quoted\"", "six", "zero"])
        let probabilities = Softmax.probabilities(logits)
        #expect(abs((object["one"] ?? -1) - Double(probabilities[1])) < 1e-7)
        // Keys in descending probability; the tie (2 and 6) keeps the lower index first.
        let text = String(decoding: body, as: UTF8.self)
        let order = try ["\"one\"", "\"four\"", "\"two \\\"quoted\\\"\"", "\"six\"", "\"zero\""].map {
            try #require(text.range(of: $0), "\($0) missing from \(text)").lowerBound
        }
        #expect(order == order.sorted())
    }

    @Test func readsTheMediaTypeOfAContentType() {
        #expect(ModelService.mediaType(of: "image/png") == "image/png")
        #expect(ModelService.mediaType(of: "  Image/PNG ; charset=binary") == "image/png")
        #expect(ModelService.mediaType(of: "multipart/form-data; boundary=x") == "multipart/form-data")
        #expect(ModelService.mediaType(of: "\t;") == "")
        #expect(ModelService.mediaType(of: "") == "")
    }
}
