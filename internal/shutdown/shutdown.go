// Package shutdown declares how long falproxy may take to stop once
// SHUTDOWN_GRACE is over: serve waits by these bounds, and the checks of
// its deployment files (compose.yaml, deploy/) give a container their sum.
package shutdown

import "time"

// The bounds serve waits by after SHUTDOWN_GRACE, one after the other.
const (
	// CancelledAnswers bounds the wait for the requests serve cancels
	// when the grace is over to answer their clients.
	CancelledAnswers = 15 * time.Second
	// CancelDrain bounds the wait for the cancels of abandoned fal jobs
	// to be confirmed: a job left running is billed.
	CancelDrain = 30 * time.Second
	// LedgerDrain bounds the wait for the last usage ledger rows to be
	// written.
	LedgerDrain = 15 * time.Second
)

// Tail is how long serve may still run once SHUTDOWN_GRACE is over. A
// container must be given SHUTDOWN_GRACE plus Tail before it is killed.
const Tail = CancelledAnswers + CancelDrain + LedgerDrain
