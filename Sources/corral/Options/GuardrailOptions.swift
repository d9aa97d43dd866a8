import Corral

/// The options of `run` that tune the guardrails across invocations.
enum GuardrailOptions {
    static func options<T: ServerCommandOptions>() -> [Option<T>] {
        [
            Option(["--min-uptime"], value: "TIME", help: """
                Any exit sooner than this after starting (with status 0 too, or by a signal) is a fast failure,
                unless a stop was asked for; staying up this long clears the server's failures. Default: 10s.
                """) { options, value throws(CorralError) in
                    options.server.guardrails?.minimumUptime = .microseconds(try Limits.timeSpan(value, field: "--min-uptime"))
                },
            Option(["--backoff-max"], value: "TIME", help: """
                After consecutive fast failures further starts are refused for 1s, 2s, 4s, ... (+-20 % jitter),
                at most this long. Default: 5min.
                """) { options, value throws(CorralError) in
                    options.server.guardrails?.backoffMaximum = .microseconds(try Limits.timeSpan(value, field: "--backoff-max"))
                },
            Option(["--breaker-threshold"], value: "N", help: """
                Consecutive fast failures that open the server's circuit breaker. Default: 3.
                """) { options, value throws(CorralError) in
                    options.server.guardrails?.breakerThreshold =
                        try BoundedNumber.parse(value, field: "--breaker-threshold", in: BoundedNumber.breakerThreshold)
                },
            Option(["--breaker-open"], value: "TIME", help: """
                How long an open breaker refuses every start before one probe is let through. Default: 10min.
                `corral reset NAME` closes it by hand.
                """) { options, value throws(CorralError) in
                    options.server.guardrails?.breakerOpen = .microseconds(try Limits.timeSpan(value, field: "--breaker-open"))
                },
            Option(["--max-instances"], value: "N", help: """
                Instances of this server name that may run at once; further starts are refused. Default: 16.
                """) { options, value throws(CorralError) in
                    options.server.guardrails?.maximumInstances =
                        try BoundedNumber.parse(value, field: "--max-instances", in: BoundedNumber.maximumInstances)
                },
            Option(["--no-guardrails"], help: """
                No backoff, breaker or instance cap for this start, and its outcome is not recorded.
                """) { options, _ in options.server.guardrails = nil },
        ]
    }
}
