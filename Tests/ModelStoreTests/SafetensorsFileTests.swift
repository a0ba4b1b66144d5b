import Foundation
import Numerics
import Testing
@testable import ModelStore

@Suite struct SafetensorsFileTests {
    @Test func roundTripIsBitExactIncludingEdgeValues() throws {
        let edge: [Float] = [
            0, -0.0, 1, -1, .leastNonzeroMagnitude, -.leastNonzeroMagnitude, .leastNormalMagnitude,
            .greatestFiniteMagnitude, -.greatestFiniteMagnitude, .infinity, -.infinity, .ulpOfOne, 3.1415927,
            Float(bitPattern: 0x0000_0001), Float(bitPattern: 0x807F_FFFF),
        ]
        let file = SafetensorsFile(
            tensors: ["b.edge": Tensor(shape: [3, 5], data: edge), "a.empty": Tensor(shape: [0, 4]),
                      "c.scalar": Tensor(shape: [], data: [42])],
            metadata: ["format": "fixserve", "quote\"d": "line\nbreak"])
        let decoded = try SafetensorsFile(bytes: file.encoded())
        #expect(decoded.metadata == file.metadata)
        #expect(Set(decoded.tensors.keys) == Set(file.tensors.keys))
        for (name, tensor) in file.tensors {
            #expect(decoded.tensors[name]?.shape == tensor.shape, "\(name)")
            #expect(decoded.tensors[name]?.data.map(\.bitPattern) == tensor.data.map(\.bitPattern), "\(name)")
        }
    }

    @Test func encodingIsDeterministicAndHeaderIsPaddedToEightBytes() throws {
        let tensors = ["w": Tensor(shape: [2], data: [1, 2]), "a": Tensor(shape: [1], data: [3])]
        let first = SafetensorsFile(tensors: tensors).encoded()
        let second = SafetensorsFile(tensors: Dictionary(uniqueKeysWithValues: tensors.reversed())).encoded()
        #expect(first == second)
        let headerLength = first.prefix(8).withUnsafeBytes { Int(UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self))) }
        #expect(headerLength % 8 == 0)
        #expect(first.count == 8 + headerLength + 12)
        let header = String(decoding: first[8..<(8 + headerLength)], as: UTF8.self)
        #expect(header.hasPrefix("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}"))
    }

    @Test func readsHalfBFloatAndDoubleAsFloat() throws {
        // F16: 1.0 = 0x3C00, −2.0 = 0xC000, smallest subnormal 0x0001 = 2^-24.
        // BF16: 1.0 = 0x3F80. F64: 0.1 rounds to Float(0.1).
        var data: [UInt8] = [0x00, 0x3C, 0x00, 0xC0, 0x01, 0x00, 0x80, 0x3F, 0, 0]
        data = Array(data.prefix(8))
        withUnsafeBytes(of: (0.1 as Double).bitPattern.littleEndian) { data += $0 }
        let header = """
        {"h":{"dtype":"F16","shape":[3],"data_offsets":[0,6]},"b":{"dtype":"BF16","shape":[1],"data_offsets":[6,8]},\
        "d":{"dtype":"F64","shape":[1],"data_offsets":[8,16]}}
        """
        let file = try SafetensorsFile(bytes: Fixtures.safetensors(header: header, data: data))
        #expect(file.tensors["h"]?.data == [1, -2, 0x1p-24])
        #expect(file.tensors["b"]?.data == [1])
        #expect(file.tensors["d"]?.data == [Float(0.1)])
        #expect(SafetensorsFile.halfToFloat(0x7C00) == .infinity)
        #expect(SafetensorsFile.halfToFloat(0x8000).bitPattern == (-0.0 as Float).bitPattern)
        #expect(SafetensorsFile.halfToFloat(0x7BFF) == 65504)
    }

    @Test func readsALargeFileFromDisk() throws {
        let directory = try Fixtures.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("t.safetensors")
        let tensor = Tensor(shape: [256, 257], data: (0..<(256 * 257)).map { Float($0) * 0.5 })
        try SafetensorsFile(tensors: ["big": tensor]).write(to: url)
        #expect(try SafetensorsFile(contentsOf: url).tensors["big"] == tensor)
    }

    // MARK: One error per corruption

    private func readError(_ bytes: Data, headerLimit: Int = SafetensorsFile.defaultHeaderLimit) -> SafetensorsError? {
        Fixtures.error(SafetensorsError.self) { _ = try SafetensorsFile(bytes: bytes, headerLimit: headerLimit) }
    }

    private let validHeader = #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}"#

    @Test func rejectsAFileShorterThanTheLengthPrefix() {
        #expect(readError(Data([1, 0, 0, 0])) == .fileTooShort(size: 4))
    }

    @Test func rejectsATruncatedDataSection() {
        let bytes = Fixtures.safetensors(header: validHeader, data: [UInt8](repeating: 0, count: 12)).dropLast(3)
        #expect(readError(Data(bytes)) == .offsetsOutOfRange(tensor: "b", begin: 8, end: 12, dataLength: 9))
    }

    @Test func rejectsHeaderLengthPastEndOfFile() {
        var bytes = Data()
        withUnsafeBytes(of: UInt64(1000).littleEndian) { bytes.append(contentsOf: $0) }
        bytes.append(contentsOf: Array("{}".utf8))
        #expect(readError(bytes) == .headerLengthPastEnd(headerLength: 1000, fileSize: 10))
    }

    @Test func rejectsHeaderLengthAboveTheCap() {
        var bytes = Data()
        withUnsafeBytes(of: UInt64.max.littleEndian) { bytes.append(contentsOf: $0) }
        #expect(readError(bytes) == .headerTooLarge(headerLength: .max, limit: SafetensorsFile.defaultHeaderLimit))
        let small = Fixtures.safetensors(header: validHeader, data: [UInt8](repeating: 0, count: 12))
        #expect(readError(small, headerLimit: 16) == .headerTooLarge(headerLength: UInt64(validHeader.utf8.count), limit: 16))
    }

    @Test func rejectsHeaderThatIsNotJSON() {
        guard case .invalidHeader? = readError(Fixtures.safetensors(header: "{\"a\": [", data: [])) else {
            Issue.record("expected invalidHeader"); return
        }
        #expect(readError(Fixtures.safetensors(header: "[1, 2]", data: [])) == .invalidHeader("not a JSON object"))
    }

    @Test func rejectsMalformedEntryNamingTheTensor() {
        let missing = Fixtures.safetensors(header: #"{"w":{"dtype":"F32","shape":[1]}}"#, data: [0, 0, 0, 0])
        #expect(readError(missing) == .invalidEntry(tensor: "w", problem: "missing \"data_offsets\""))
        let negative = Fixtures.safetensors(header: #"{"w":{"dtype":"F32","shape":[-1],"data_offsets":[0,0]}}"#, data: [])
        #expect(readError(negative) == .invalidEntry(tensor: "w", problem: "negative dimension -1 in shape [-1]"))
        let fractional = Fixtures.safetensors(header: #"{"w":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}}"#, data: [0, 0, 0, 0])
        guard case .invalidEntry(tensor: "w", _)? = readError(fractional) else { Issue.record("expected invalidEntry"); return }
    }

    @Test func rejectsOffsetsOutOfRange() {
        let header = #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,16]}}"#
        let bytes = Fixtures.safetensors(header: header, data: [UInt8](repeating: 0, count: 12))
        #expect(readError(bytes) == .offsetsOutOfRange(tensor: "b", begin: 8, end: 16, dataLength: 12))
        let reversed = #"{"a":{"dtype":"F32","shape":[0],"data_offsets":[8,4]}}"#
        #expect(readError(Fixtures.safetensors(header: reversed, data: [UInt8](repeating: 0, count: 8)))
                == .offsetsOutOfRange(tensor: "a", begin: 8, end: 4, dataLength: 8))
    }

    @Test func rejectsOverlappingTensors() {
        let header = #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#
        let bytes = Fixtures.safetensors(header: header, data: [UInt8](repeating: 0, count: 12))
        #expect(readError(bytes) == .overlappingTensors("a", "b"))
    }

    @Test func rejectsGapsInTheDataSection() {
        let middle = #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}"#
        #expect(readError(Fixtures.safetensors(header: middle, data: [UInt8](repeating: 0, count: 12)))
                == .gapInData(after: "a", begin: 4, end: 8))
        let trailing = #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#
        #expect(readError(Fixtures.safetensors(header: trailing, data: [UInt8](repeating: 0, count: 6)))
                == .gapInData(after: "a", begin: 4, end: 6))
        let leading = #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#
        #expect(readError(Fixtures.safetensors(header: leading, data: [UInt8](repeating: 0, count: 8)))
                == .gapInData(after: nil, begin: 0, end: 4))
    }

    @Test func rejectsUnsupportedDType() {
        let header = #"{"i":{"dtype":"I64","shape":[1],"data_offsets":[0,8]}}"#
        #expect(readError(Fixtures.safetensors(header: header, data: [UInt8](repeating: 0, count: 8)))
                == .unsupportedDType(tensor: "i", dtype: "I64"))
    }

    @Test func rejectsShapeThatDisagreesWithByteLength() {
        let header = #"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#
        #expect(readError(Fixtures.safetensors(header: header, data: [UInt8](repeating: 0, count: 8)))
                == .byteLengthMismatch(tensor: "a", shape: [3], dtype: "F32", expectedBytes: 12, actualBytes: 8))
    }

    @Test func rejectsShapeWhoseSizeOverflows() {
        let header = #"{"a":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,8]}}"#
        #expect(readError(Fixtures.safetensors(header: header, data: [UInt8](repeating: 0, count: 8)))
                == .shapeOverflow(tensor: "a", shape: [4_611_686_018_427_387_904, 4]))
    }

    @Test func rejectsNonStringMetadata() {
        let header = #"{"__metadata__":{"epoch":3}}"#
        #expect(readError(Fixtures.safetensors(header: header, data: []))
                == .invalidHeader("__metadata__ must be an object of strings"))
    }
}
