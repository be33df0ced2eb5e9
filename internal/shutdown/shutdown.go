// Package shutdown declares how long falproxy may take to stop, for the
// checks of its deployment files (compose.yaml, deploy/) and of serve's
// own bounds, which both import it rather than repeat the number.
package shutdown

import "time"

// Tail is how long serve may still run once SHUTDOWN_GRACE is over: up to
// 15 s to answer the requests it then cancels, 30 s to confirm the
// cancels of their fal jobs, and 15 s to write the last usage ledger
// rows. A container must be given SHUTDOWN_GRACE plus Tail before it is
// killed. A test in cmd/falproxy checks it against serve's bounds.
const Tail = 60 * time.Second
