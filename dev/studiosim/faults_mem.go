package studiosim

import (
	"context"
	crand "crypto/rand"
	"errors"
	"fmt"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"
)

// FillKeyPattern matches every Redis key the redis_memory fault writes (fault ids are unique,
// so several simulators can share one Redis).
const FillKeyPattern = "studiosim:fill:*"

const (
	fillValueSize = 1 << 20 // one key per megabyte
	fillBatch     = 8       // keys per pipeline round trip
	pageSize      = 4096
	growTick      = 100 * time.Millisecond
)

func fillKey(faultID string, i int) string {
	return fmt.Sprintf("studiosim:fill:%s:%05d", faultID, i)
}

// fillRedis writes mb one-megabyte keys and returns the function that deletes them.
func (s *Server) fillRedis(ctx context.Context, faultID string, mb int) (func(context.Context) error, error) {
	value := make([]byte, fillValueSize)
	if _, err := crand.Read(value); err != nil {
		return nil, fmt.Errorf("random fill value: %w", err)
	}
	keys := make([]string, 0, mb)
	del := func(ctx context.Context) error {
		var errs []error
		for start := 0; start < len(keys); start += 256 {
			end := min(start+256, len(keys))
			if err := s.rdb.Unlink(ctx, keys[start:end]...).Err(); err != nil {
				errs = append(errs, fmt.Errorf("delete fill keys: %w", err))
			}
		}
		return errors.Join(errs...)
	}
	for start := 0; start < mb; start += fillBatch {
		pipe := s.rdb.Pipeline()
		for i := start; i < min(start+fillBatch, mb); i++ {
			k := fillKey(faultID, i)
			keys = append(keys, k)
			pipe.Set(ctx, k, value, 0)
		}
		if _, err := pipe.Exec(ctx); err != nil {
			del(context.WithoutCancel(ctx))
			return nil, fmt.Errorf("write fill keys: %w", err)
		}
	}
	return del, nil
}

// grower holds the memory a memory_growth fault retains.
type grower struct {
	mu     sync.Mutex
	chunks [][]byte
	held   atomic.Int64
}

// grow allocates n more bytes in chunks of at most 1 MiB and touches every page so that the
// memory is resident, not just reserved.
func (g *grower) grow(n int64) {
	for n > 0 {
		size := min(n, fillValueSize)
		c := make([]byte, size)
		for i := 0; i < len(c); i += pageSize {
			c[i] = 1
		}
		g.mu.Lock()
		g.chunks = append(g.chunks, c)
		g.mu.Unlock()
		g.held.Add(size)
		n -= size
	}
}

// growMemory starts retaining mbPerSec megabytes a second up to maxMB and returns the function
// that frees it all and the current retained size.
func (s *Server) growMemory(mbPerSec float64, maxMB int) (func(context.Context) error, func() int64) {
	g := &grower{}
	ctx, cancel := context.WithCancel(s.bg)
	done := make(chan struct{})
	limit := int64(maxMB) << 20
	perTick := mbPerSec * float64(1<<20) * growTick.Seconds()
	go func() {
		defer close(done)
		t := time.NewTicker(growTick)
		defer t.Stop()
		var carry float64
		for {
			carry += perTick
			n := min(int64(carry), limit-g.held.Load())
			carry -= float64(int64(carry))
			if n > 0 {
				g.grow(n)
				s.metrics.retainedBytes.Add(float64(n))
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	undo := func(context.Context) error {
		cancel()
		<-done
		g.mu.Lock()
		g.chunks = nil
		g.mu.Unlock()
		s.metrics.retainedBytes.Sub(float64(g.held.Swap(0)))
		debug.FreeOSMemory()
		return nil
	}
	return undo, g.held.Load
}
