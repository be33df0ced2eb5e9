package responses

import "context"

// Keeper keeps responses for previous_response_id and GET, DELETE and
// input_items of /v1/responses/{id}, each for the access key that created
// it: asked with another key, a response does not exist. A Store keeps
// them in process; a Shared keeps them in the database that replicas
// share. The errors are the database's: a Store never fails. key names
// the access key without being it: its store.HashKey, which the caller
// computes once for every use.
type Keeper interface {
	// Put keeps s for key; a turn too large to keep is dropped.
	Put(ctx context.Context, key string, s Stored) error
	// Get returns response id, if key has it kept.
	Get(ctx context.Context, key, id string) (Stored, bool, error)
	// History is the conversation that led to response id and its
	// output (see Store.History), false when a turn of it is not kept.
	History(ctx context.Context, key, id string) ([]Item, bool, error)
	// Delete forgets response id of key, reporting whether key had it.
	Delete(ctx context.Context, key, id string) (bool, error)
}
