@testable import HTTPServer
import Testing

@Suite("Stream table")
struct StreamTableTests {
    final class Box {
        let id: Int32
        init(_ id: Int32) { self.id = id }
    }

    @Test func insertsFindsAndRemovesLikeADictionary() {
        var table = StreamTable<Box>()
        var reference: [Int32: Box] = [:]
        // A random mix of increasing odd ids (as clients open them), colliding ids
        // (multiples of the capacity) and removals in and out of order.
        var generator = SystemRandomNumberGenerator()
        var nextID: Int32 = 1
        for step in 0..<20_000 {
            let roll = Int.random(in: 0..<10, using: &generator)
            if roll < 5 || reference.isEmpty {
                let id = step % 7 == 0 ? Int32(step % 50) * 64 + 1 : nextID
                nextID += 2
                let box = Box(id)
                table[id] = box
                reference[id] = box
            } else {
                let id = roll < 8 ? reference.keys.randomElement(using: &generator)! : Int32.random(in: 0..<100_000, using: &generator)
                #expect(table.removeValue(forKey: id) === reference.removeValue(forKey: id))
            }
            #expect(table.count == reference.count)
        }
        for (id, box) in reference { #expect(table[id] === box) }
        #expect(table[nextID + 2] == nil)
        #expect(Set(table.values.map(\.id)) == Set(reference.keys))
        table.removeAll()
        #expect(table.isEmpty)
        #expect(table.values.isEmpty)
    }
}
