import Corral

/// What `corral run` reports: alarming events (and, with --verbose, all) on stderr, every event in the journal.
enum Events {
    static func report(_ event: ServerEvent, verbose: Bool = false) {
        if event.isAlarming || verbose { Console.error(event.message) }
        event.sendToJournal()
    }
}
