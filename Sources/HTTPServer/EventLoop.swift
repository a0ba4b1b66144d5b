import CEpoll
import Dispatch
import Glibc
import Synchronization

/// One core's share of the connections: a serial queue on which all of them run, an epoll set of
/// their sockets, and a single Dispatch read source on that set.
///
/// Dispatch on Linux disarms a socket's source after every event and re-arms it through its
/// manager thread, which costs two thread wake-ups per read. The loop's one source stands for
/// all its sockets instead: one wake-up serves every socket ready at that moment, and a busy
/// loop keeps taking rounds of ready sockets (up to `turnLimitNanoseconds`) before it gives the
/// queue back. Connection timeouts are checked by one timer per loop rather than one per
/// connection.
///
/// Work that a turn of the loop hands on (`afterCurrentWork`: a batch formed from this
/// wake-up's requests, the writes of the answers it produced) runs at the end of that turn on
/// the same thread. A block queued with `queue.async` would instead end the turn and wake
/// another thread to start the next, a wake-up per hand-off.
///
/// A turn that found work lingers a little for the next: its thread waits in the epoll set
/// (`lingerMicroseconds`) instead of returning to Dispatch, whose manager thread would
/// otherwise wake for the next event and wake a worker in turn. A client that sends its next
/// request soon after its answer (one client at a time, say) then costs one wake-up per
/// request rather than three.
///
/// Work from other threads (`execute`: an answer computed elsewhere, a new connection's start)
/// goes into the loop's inbox. A running turn takes it between two rounds, and ends a lingering
/// wait for it through an eventfd in the set; only a loop that is not running queues a block on
/// Dispatch to start a turn. So a busy loop never hands its thread back just to let such work
/// in, and such work never waits for a busy loop's turn to end.
final class EventLoop: @unchecked Sendable {
    /// What a connection asks its loop to watch its socket for. Errors and hang-ups are
    /// reported whatever it asks.
    struct Interest: OptionSet, Equatable {
        let rawValue: UInt32
        static let readable = Interest(rawValue: EPOLLIN.rawValue)
        static let writable = Interest(rawValue: EPOLLOUT.rawValue)
    }

    /// What the loop saw on a socket.
    struct Readiness {
        /// Bytes, an end of stream or an error wait to be read.
        var readable: Bool
        /// The socket takes more output.
        var writable: Bool
    }

    /// The loop's place among the server's loops, 0 ..< `HTTPServer.eventLoopCount`.
    let index: Int
    /// The serial queue every connection of this loop runs on.
    let queue: DispatchQueue
    /// Runs responders on `queue` (see `HTTPServerConfiguration.responderPlacement`).
    private(set) lazy var executor = QueueTaskExecutor(loop: self)

    private let epoll: Int32
    private let source: DispatchSourceRead
    private let timer: DispatchSourceTimer
    /// The connections registered here, by id (the epoll data of their socket). Only touched on `queue`.
    private var connections: [Int: Connection] = [:]
    private let events: UnsafeMutablePointer<epoll_event>
    /// Written by `execute` while the loop lingers, so queued work need not wait for the linger to end.
    private let wakeup: Int32
    private let lingering = Atomic<Bool>(false)
    /// Work handed on during the current turn, and the generation being run. Only touched on `queue`.
    private var deferred: [() -> Void] = []
    private var running: [() -> Void] = []
    /// Work from other threads (`execute`), taken by the turn between rounds.
    private let inbox = Mutex<[() -> Void]>([])
    /// The inbox's work being run; only touched on `queue`.
    private var arrived: [() -> Void] = []
    /// True while a turn runs, until after its last look at the inbox: handed-on work waits for
    /// the turn's end, and `execute` leaves its work to the turn, rather than queueing a block.
    private let turnActive = Atomic<Bool>(false)
    /// When the current round stops running later generations of handed-on work.
    private var roundDeadline: UInt64 = 0
    /// A block is queued that will run a turn and has not begun (set from any thread by `execute`).
    private let turnQueued = Atomic<Bool>(false)

    private static let eventCapacity = 64
    /// Generations of handed-on work run at the end of a round (work handed on by handed-on
    /// work: a batch's answers, then their writes). Bounded so the loop's sockets and inbox
    /// come back between batches under load.
    private static let deferredGenerations = 4
    /// How long a round may keep running generations of handed-on work after its first.
    /// Batches that run on the loop make each generation long under load; without a bound in
    /// time a round would run several, and the sockets and inbox (a new connection's start: a
    /// health probe, say) would wait for all of them.
    private static let roundBudgetNanoseconds: UInt64 = 2_000_000
    /// How long a turn keeps taking rounds before it gives the queue back, so the loop's timer
    /// and blocks queued on the queue itself (a closed connection's last step) run.
    private static let turnLimitNanoseconds: UInt64 = 10_000_000
    /// How long a turn waits for more events once it has handled some. Far below a connection's
    /// timeouts, and short enough that blocks queued without a wake-up (a closing connection's
    /// last step) are hardly delayed.
    private static let lingerMicroseconds = 250
    /// The epoll data of the wake-up eventfd; connection ids start at 0 and count up.
    private static let wakeupID = UInt64.max

    /// Marks each loop's queue, so code can tell whether it already runs there.
    private static let key = DispatchSpecificKey<ObjectIdentifier>()

    /// - Parameter tick: seconds between timeout checks of the loop's connections.
    init(index: Int, label: String, tick: Double) {
        self.index = index
        queue = DispatchQueue(label: label, qos: .userInitiated)
        epoll = epoll_create1(Int32(EPOLL_CLOEXEC))
        precondition(epoll >= 0, "epoll_create1 failed: errno \(errno)")
        events = .allocate(capacity: EventLoop.eventCapacity)
        wakeup = eventfd(0, Int32(EFD_NONBLOCK | EFD_CLOEXEC))
        precondition(wakeup >= 0, "eventfd failed: errno \(errno)")
        var wakeupEvent = epoll_event()
        wakeupEvent.events = EPOLLIN.rawValue
        wakeupEvent.data.u64 = EventLoop.wakeupID
        precondition(epoll_ctl(epoll, EPOLL_CTL_ADD, wakeup, &wakeupEvent) == 0, "epoll_ctl failed: errno \(errno)")
        source = DispatchSource.makeReadSource(fileDescriptor: epoll, queue: queue)
        timer = DispatchSource.makeTimerSource(queue: queue)
        queue.setSpecific(key: EventLoop.key, value: ObjectIdentifier(self))
        source.setEventHandler { [weak self] in self?.turn { $0.takeReadySockets() } }
        // Dispatch may still watch the descriptor until the source is cancelled.
        source.setCancelHandler { [epoll, wakeup] in
            _ = Glibc.close(epoll)
            _ = Glibc.close(wakeup)
        }
        timer.schedule(deadline: .now() + tick, repeating: tick, leeway: .milliseconds(Int(tick * 250)))
        timer.setEventHandler { [weak self] in self?.turn { $0.checkTimeouts() } }
        source.activate()
        timer.activate()
    }

    deinit {
        source.cancel()
        timer.cancel()
        events.deallocate()
    }

    /// True when the caller runs on this loop's queue.
    var isCurrent: Bool {
        DispatchQueue.getSpecific(key: EventLoop.key) == ObjectIdentifier(self)
    }

    // MARK: Registration (on `queue`)

    /// Watches `descriptor` for `interest` on behalf of `connection`.
    func register(_ connection: Connection, descriptor: Int32, interest: Interest) -> Bool {
        var event = epoll_event()
        event.events = interest.rawValue
        event.data.u64 = UInt64(connection.id)
        guard epoll_ctl(epoll, EPOLL_CTL_ADD, descriptor, &event) == 0 else { return false }
        connections[connection.id] = connection
        return true
    }

    /// Changes what a registered socket is watched for; none watches only for errors and hang-ups.
    func update(_ connection: Connection, descriptor: Int32, interest: Interest) {
        var event = epoll_event()
        event.events = interest.rawValue
        event.data.u64 = UInt64(connection.id)
        _ = epoll_ctl(epoll, EPOLL_CTL_MOD, descriptor, &event)
    }

    /// Stops watching the socket; call before closing it.
    func deregister(_ connection: Connection, descriptor: Int32) {
        _ = epoll_ctl(epoll, EPOLL_CTL_DEL, descriptor, nil)
        connections[connection.id] = nil
    }

    // MARK: Turns

    /// Runs `work` on this loop at the end of its current turn, on the same thread (see the type's
    /// doc); outside a turn, in a turn of its own queued on `queue`. Call on `queue`.
    func afterCurrentWork(_ work: @escaping () -> Void) {
        assert(isCurrent, "afterCurrentWork called off the loop's queue")
        deferred.append(work)
        guard !turnActive.load(ordering: .relaxed) else { return }
        queueTurn()
    }

    /// Runs `body` on the loop, from any thread (a response computed elsewhere): in the running
    /// turn between two rounds, or in a turn of its own; what it hands on runs right after it.
    func execute(_ body: @escaping () -> Void) {
        inbox.withLock { $0.append(body) }
        // Either this load sees the turn still active, and the turn's last look at the inbox
        // (after it clears the flag) sees the work, or a new turn is queued for it.
        if turnActive.load(ordering: .sequentiallyConsistent) {
            if lingering.load(ordering: .sequentiallyConsistent) {
                var one: UInt64 = 1
                _ = Glibc.write(wakeup, &one, 8)
            }
        } else {
            queueTurn()
        }
    }

    private func turn(_ body: (EventLoop) -> Void) {
        turnActive.store(true, ordering: .sequentiallyConsistent)
        startRound()
        runInbox()
        body(self)
        runHandedOnWork()
        turnActive.store(false, ordering: .sequentiallyConsistent)
        if !deferred.isEmpty || inboxHasWork { queueTurn() }
    }

    private func startRound() {
        roundDeadline = DispatchTime.now().uptimeNanoseconds + EventLoop.roundBudgetNanoseconds
    }

    /// Runs the work other threads queued so far (not what it queues in turn); true if any ran.
    @discardableResult
    private func runInbox() -> Bool {
        inbox.withLock { swap(&$0, &arrived) }
        guard !arrived.isEmpty else { return false }
        for work in arrived { work() }
        arrived.removeAll(keepingCapacity: true)
        return true
    }

    private var inboxHasWork: Bool {
        inbox.withLock { !$0.isEmpty }
    }

    /// Runs handed-on work: its first generation always, later ones while the round is within
    /// its budget. What is left runs in the next round, or in a turn queued for it.
    private func runHandedOnWork() {
        for generation in 0..<EventLoop.deferredGenerations where !deferred.isEmpty {
            if generation > 0 && DispatchTime.now().uptimeNanoseconds >= roundDeadline { return }
            swap(&deferred, &running)
            for work in running { work() }
            running.removeAll(keepingCapacity: true)
        }
    }

    /// Queues a block that runs a turn (for handed-on work or the inbox), unless one is queued.
    private func queueTurn() {
        guard !turnQueued.exchange(true, ordering: .sequentiallyConsistent) else { return }
        queue.async { [self] in
            turnQueued.store(false, ordering: .sequentiallyConsistent)
            turn { _ in }
        }
    }

    // MARK: Events

    private func takeReadySockets() {
        let turnEnd = DispatchTime.now().uptimeNanoseconds + EventLoop.turnLimitNanoseconds
        var linger = false
        while true {
            let count: Int
            if linger {
                // Set before the inbox is looked at: work queued after that look sees the flag
                // and ends the wait through the eventfd.
                lingering.store(true, ordering: .sequentiallyConsistent)
                let wait = inboxHasWork ? 0 : EventLoop.lingerMicroseconds
                count = Int(fixserve_epoll_wait_microseconds(epoll, events, Int32(EventLoop.eventCapacity), wait))
                lingering.store(false, ordering: .sequentiallyConsistent)
            } else {
                count = Int(epoll_wait(epoll, events, Int32(EventLoop.eventCapacity), 0))
            }
            startRound()
            for index in 0..<max(count, 0) {
                let event = events[index]
                if event.data.u64 == EventLoop.wakeupID {
                    var value: UInt64 = 0
                    _ = Glibc.read(wakeup, &value, 8)
                    continue
                }
                let readiness = Readiness(readable: event.events & (EPOLLIN.rawValue | EPOLLERR.rawValue | EPOLLHUP.rawValue) != 0,
                                          writable: event.events & EPOLLOUT.rawValue != 0)
                // A connection closed earlier in this round is gone from the table.
                connections[Int(event.data.u64)]?.handle(readiness)
            }
            let ranInbox = runInbox()
            // This round's answers leave before the loop waits for more.
            runHandedOnWork()
            // Nothing came during the linger: the thread goes back to Dispatch.
            if count <= 0 && !ranInbox { return }
            if DispatchTime.now().uptimeNanoseconds >= turnEnd { return }
            linger = true
        }
    }

    private func checkTimeouts() {
        for connection in Array(connections.values) { connection.checkTimeouts() }
    }
}
