package fleet

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"

	"github.com/redis/go-redis/v9"
)

// routeClientLogs sends the go-redis client's own log lines (a failed dial
// of its pool, several a second while Redis is down) to the logger at
// debug level instead of stderr: they then follow LOG_FORMAT, and an
// outage shows at the default level as the one warning the fleet logs.
// go-redis has one logger per process, and so does falproxy: its one fleet
// sets it.
func routeClientLogs(log *slog.Logger) {
	fleetLogs.Store(true)
	redis.SetLogger(clientLog{log})
}

// fleetLogs: a fleet has routed the client's logs in this process.
var fleetLogs atomic.Bool

// quietClientLogs drops the client's log lines, unless a fleet routes
// them: a process that only pings Redis (falproxy check) reports the
// failure itself, and go-redis's own lines would come on top, unformatted.
func quietClientLogs() {
	if !fleetLogs.Load() {
		redis.SetLogger(clientLog{slog.New(slog.DiscardHandler)})
	}
}

// clientLog adapts a slog.Logger to go-redis's logging interface.
type clientLog struct{ log *slog.Logger }

func (c clientLog) Printf(ctx context.Context, format string, args ...any) {
	msg := strings.TrimPrefix(fmt.Sprintf(format, args...), "redis: ")
	c.log.Log(ctx, slog.LevelDebug, "redis client: "+msg)
}
