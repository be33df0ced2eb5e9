// Package video is the pure translation between OpenAI's Videos API and
// fal's video endpoints: a video request and an endpoint's capabilities
// become fal's input (plan.go), fal's output becomes the URLs of the
// variants (output.go), a job's state becomes a Video object's status and
// progress (object.go), and the id that carries a video across restarts
// and replicas is sealed and opened here (id.go). It calls nothing.
package video
