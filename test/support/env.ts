// Tests assert on behaviour, not on log lines; keep jest's output readable unless asked.
process.env.POWERTOOLS_LOG_LEVEL ??= process.env.TEST_LOG_LEVEL ?? 'SILENT';
process.env.POWERTOOLS_DEV ??= 'true';
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
