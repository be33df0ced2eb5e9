// Package responses is the pure translation of OpenAI's Responses API onto
// the chat completions falproxy already serves: a Responses request becomes
// a chat request (Bridge), a chat completion becomes a Response (Build),
// and a chat stream becomes the Responses event sequence (Stream). It also
// keeps stored responses for previous_response_id (Store). It knows
// nothing of HTTP or fal.
package responses
