// Package report turns the record of a boot into what people look at and
// what CI reads: a timeline of every phase on one time axis from power-on
// (one self-contained HTML file with inline SVG), two runs compared on one
// axis, JUnit XML and JSON.
//
// A boot's record is its run directory: the timestamped console log
// (serialcon's [serialcon.Log] format, boot.log), the raw bytes
// (boot.raw) and [Record] (run.json: the board, the commands run). The
// phases and failures are not stored: [New] replays the log through
// serialcon's tracker, so a log from `bootrig log` makes a report too.
//
// Start with [Load] (a run directory) or [New], then [Report.WriteHTML],
// [Report.WriteJUnit] and [Compare]; [Runs] keeps a board's run
// directories.
package report
