import ProcessAllocator
import Testing

/// The allocator this module links is the one that serves the process, and its totals follow
/// what the program allocates.
@Suite struct ProcessAllocatorTests {
    @Test func jemallocServesTheProcess() {
        #expect(ProcessAllocator.version.hasPrefix("5."), "version \(ProcessAllocator.version)")
        #expect(ProcessAllocator.statistics() != nil)
    }

    @Test func allocatedBytesFollowALargeAllocation() throws {
        let size = 64 << 20
        let before = try #require(ProcessAllocator.statistics())
        let block = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 64)
        // Touch every page, so that the block is resident as well as allocated.
        block.initializeMemory(as: UInt8.self, repeating: 1, count: size)
        let during = try #require(ProcessAllocator.statistics())
        block.deallocate()
        let after = try #require(ProcessAllocator.statistics())
        // Other tests allocate concurrently; 64 MiB dwarfs what they hold at any moment.
        #expect(during.allocatedBytes - before.allocatedBytes >= size - (8 << 20), "before \(before), during \(during)")
        #expect(during.residentBytes >= size, "during \(during)")
        #expect(during.allocatedBytes - after.allocatedBytes >= size - (8 << 20), "during \(during), after \(after)")
    }
}
