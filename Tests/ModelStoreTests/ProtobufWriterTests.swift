import Testing
@testable import ModelStore

@Suite struct ProtobufWriterTests {
    @Test func encodesVarintsAsTheSpecificationShows() {
        var writer = ProtobufWriter()
        writer.int(1, 150)
        #expect(writer.bytes == [0x08, 0x96, 0x01])
        var negative = ProtobufWriter()
        negative.int(2, -1)
        #expect(negative.bytes == [0x10] + [UInt8](repeating: 0xFF, count: 9) + [0x01])
    }

    @Test func encodesStringsFloatsAndNestedMessages() {
        var writer = ProtobufWriter()
        writer.string(2, "testing")
        #expect(writer.bytes == [0x12, 0x07] + Array("testing".utf8))
        var float = ProtobufWriter()
        float.float(2, 1)
        #expect(float.bytes == [0x15, 0x00, 0x00, 0x80, 0x3F])
        var nested = ProtobufWriter()
        nested.message(3) { $0.int(1, 150) }
        #expect(nested.bytes == [0x1A, 0x03, 0x08, 0x96, 0x01])
        var repeated = ProtobufWriter()
        repeated.ints(1, [1, 2])
        #expect(repeated.bytes == [0x08, 0x01, 0x08, 0x02])
        var long = ProtobufWriter()
        long.data(1, [UInt8](repeating: 7, count: 200))
        #expect(Array(long.bytes.prefix(3)) == [0x0A, 0xC8, 0x01])
    }
}
