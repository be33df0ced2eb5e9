package fleet

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/redis/go-redis/v9"
)

// routeClientLogs sends the go-redis client's own log lines (a failed dial
// of its pool, several a second while Redis is down) to the logger at
// debug level instead of stderr: they then follow LOG_FORMAT, and an
// outage shows at the default level as the one warning the fleet logs.
// go-redis has one logger per process, and so does falproxy: its one fleet
// sets it.
func routeClientLogs(log *slog.Logger) {
	redis.SetLogger(clientLog{log})
}

// clientLog adapts a slog.Logger to go-redis's logging interface.
type clientLog struct{ log *slog.Logger }

func (c clientLog) Printf(ctx context.Context, format string, args ...any) {
	msg := strings.TrimPrefix(fmt.Sprintf(format, args...), "redis: ")
	c.log.Log(ctx, slog.LevelDebug, "redis client: "+msg)
}
