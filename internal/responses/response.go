package responses

import (
	"encoding/json"

	"github.com/falproxy/falproxy/internal/chat"
	"github.com/falproxy/falproxy/internal/openai"
)

// Response is the Responses API's response object, as the SDKs parse it.
type Response struct {
	ID                 string             `json:"id"`
	Object             string             `json:"object"` // "response"
	CreatedAt          int64              `json:"created_at"`
	Status             string             `json:"status"` // in_progress, completed, incomplete, failed
	Error              *ResponseError     `json:"error"`
	IncompleteDetails  *IncompleteDetails `json:"incomplete_details"`
	Instructions       *string            `json:"instructions"`
	MaxOutputTokens    *int               `json:"max_output_tokens"`
	Model              string             `json:"model"`
	Output             []OutputItem       `json:"output"`
	ParallelToolCalls  bool               `json:"parallel_tool_calls"`
	PreviousResponseID *string            `json:"previous_response_id"`
	Reasoning          Reasoning          `json:"reasoning"`
	Store              bool               `json:"store"`
	Temperature        float64            `json:"temperature"`
	Text               TextConfig         `json:"text"`
	ToolChoice         json.RawMessage    `json:"tool_choice"`
	Tools              []Tool             `json:"tools"`
	TopP               float64            `json:"top_p"`
	Truncation         string             `json:"truncation"`
	Usage              *Usage             `json:"usage"`
	User               *string            `json:"user"`
	Metadata           json.RawMessage    `json:"metadata"`
}

// ResponseError is a failed response's error.
type ResponseError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// IncompleteDetails says why a response is incomplete.
type IncompleteDetails struct {
	Reason string `json:"reason"` // "max_output_tokens"
}

// Usage is a response's token count.
type Usage struct {
	InputTokens         int                 `json:"input_tokens"`
	InputTokensDetails  InputTokensDetails  `json:"input_tokens_details"`
	OutputTokens        int                 `json:"output_tokens"`
	OutputTokensDetails OutputTokensDetails `json:"output_tokens_details"`
	TotalTokens         int                 `json:"total_tokens"`
	// Cost is what fal's route reports the tokens cost, in USD
	// (OpenRouter's usage.cost); it settles the request's cost.
	Cost float64 `json:"cost,omitempty"`
}

// InputTokensDetails and OutputTokensDetails are the usage breakdowns the
// SDKs require.
type InputTokensDetails struct {
	CachedTokens int `json:"cached_tokens"`
}

type OutputTokensDetails struct {
	ReasoningTokens int `json:"reasoning_tokens"`
}

// OutputItem is one item of output: a reasoning item, an assistant message
// or a function call.
type OutputItem struct {
	Type      string        `json:"type"`
	ID        string        `json:"id"`
	Status    string        `json:"status,omitempty"`
	Role      string        `json:"role,omitempty"`
	Content   []OutputPart  `json:"content,omitzero"` // [] while a message starts; absent on calls
	Summary   *[]OutputPart `json:"summary,omitempty"`
	CallID    string        `json:"call_id,omitempty"`
	Name      string        `json:"name,omitempty"`
	Arguments *string       `json:"arguments,omitempty"`
}

// OutputPart is a content part of an output item: output_text, or
// reasoning_text in a reasoning item.
type OutputPart struct {
	Type        string      `json:"type"`
	Text        string      `json:"text"`
	Annotations *[]struct{} `json:"annotations,omitempty"`
	Logprobs    *[]struct{} `json:"logprobs,omitempty"`
}

// Item ids carry OpenAI's prefixes.
func newResponseID() string { return chat.RandomID("resp_") }
func newMessageID() string  { return chat.RandomID("msg_") }
func newCallID() string     { return chat.RandomID("fc_") }
func newReasonID() string   { return chat.RandomID("rs_") }

// newToolCallID names a call read from a model's text, as chat names calls.
func newToolCallID() string { return chat.RandomID("call_") }

// messageItem, reasoningItem and functionCallItem build output items.
func messageItem(id, text, status string) OutputItem {
	return OutputItem{Type: "message", ID: id, Status: status, Role: "assistant", Content: []OutputPart{textPart(text)}}
}

func textPart(text string) OutputPart {
	return OutputPart{Type: "output_text", Text: text, Annotations: &[]struct{}{}, Logprobs: &[]struct{}{}}
}

func reasoningItem(id, text string) OutputItem {
	return OutputItem{Type: "reasoning", ID: id, Summary: &[]OutputPart{}, Content: []OutputPart{{Type: "reasoning_text", Text: text}}}
}

func functionCallItem(id, callID, name, args, status string) OutputItem {
	return OutputItem{Type: "function_call", ID: id, Status: status, CallID: callID, Name: name, Arguments: &args}
}

// newResponse is the response object for req before any output: its
// settings echoed with OpenAI's defaults filled in.
func newResponse(req *Request, created int64) Response {
	r := Response{
		ID: newResponseID(), Object: "response", CreatedAt: created, Status: "in_progress",
		MaxOutputTokens: req.MaxOutputTokens, Model: req.Model, Output: []OutputItem{},
		ParallelToolCalls: req.ParallelToolCalls == nil || *req.ParallelToolCalls, Store: req.Stored(),
		Temperature: 1, TopP: 1, ToolChoice: json.RawMessage(`"auto"`), Tools: req.Tools, Truncation: "disabled",
		Metadata: json.RawMessage(`{}`), Text: TextConfig{Format: &TextFormat{Type: "text"}},
	}
	if req.Instructions != "" {
		r.Instructions = &req.Instructions
	}
	if req.PreviousResponseID != "" {
		r.PreviousResponseID = &req.PreviousResponseID
	}
	if req.Reasoning != nil {
		r.Reasoning = *req.Reasoning
	}
	if req.Temperature != nil {
		r.Temperature = *req.Temperature
	}
	if req.TopP != nil {
		r.TopP = *req.TopP
	}
	if len(req.ToolChoice) > 0 {
		r.ToolChoice = req.ToolChoice
	}
	if r.Tools == nil {
		r.Tools = []Tool{}
	}
	if req.User != "" {
		r.User = &req.User
	}
	if len(req.Metadata) > 0 && string(req.Metadata) != "null" {
		r.Metadata = req.Metadata
	}
	if req.Text != nil && req.Text.Format != nil {
		r.Text = *req.Text
	}
	return r
}

// finish sets the final status: incomplete, with the reason, when the
// chat answer was cut by its token limit.
func (r *Response) finish(finishReason string, usage *Usage) {
	r.Status, r.Usage = "completed", usage
	if finishReason == "length" {
		r.Status, r.IncompleteDetails = "incomplete", &IncompleteDetails{Reason: "max_output_tokens"}
	}
}

// chatUsage is a chat completion's usage with the reasoning breakdown.
type chatUsage struct {
	openai.Usage
	CompletionTokensDetails *struct {
		ReasoningTokens int `json:"reasoning_tokens"`
	} `json:"completion_tokens_details,omitempty"`
}

// responsesUsage converts chat usage; nil stays nil.
func (u *chatUsage) responsesUsage() *Usage {
	if u == nil {
		return nil
	}
	out := &Usage{InputTokens: u.PromptTokens, OutputTokens: u.CompletionTokens, TotalTokens: u.TotalTokens}
	if u.CompletionTokensDetails != nil {
		out.OutputTokensDetails.ReasoningTokens = u.CompletionTokensDetails.ReasoningTokens
	}
	return out
}

// chatAnswer is the part of a chat completion Build reads.
type chatAnswer struct {
	Choices []struct {
		Message struct {
			Content          *string           `json:"content"`
			ReasoningContent string            `json:"reasoning_content"`
			ToolCalls        []openai.ToolCall `json:"tool_calls"`
		} `json:"message"`
		FinishReason string `json:"finish_reason"`
	} `json:"choices"`
	Usage *chatUsage `json:"usage"`
}

// Build turns a whole chat completion (its JSON) into the response to
// req: a reasoning item when the model reasoned, a message item when it
// wrote text or called no function, and one function_call item per call.
func Build(req *Request, created int64, completion []byte, tools ToolMode) (Response, error) {
	var c chatAnswer
	if err := json.Unmarshal(completion, &c); err != nil {
		return Response{}, err
	}
	r := newResponse(req, created)
	finishReason := ""
	if len(c.Choices) > 0 {
		ch := c.Choices[0]
		finishReason = ch.FinishReason
		if ch.Message.ReasoningContent != "" {
			r.Output = append(r.Output, reasoningItem(newReasonID(), ch.Message.ReasoningContent))
		}
		text := ""
		if ch.Message.Content != nil {
			text = *ch.Message.Content
		}
		calls := ch.Message.ToolCalls
		if req.usesTextTools(tools) {
			var read []textCall
			if text, read = parseTextCalls(text, req.Tools); len(read) > 0 {
				finishReason = "tool_calls"
			}
			for _, c := range read {
				calls = append(calls, openai.ToolCall{ID: newToolCallID(), Type: "function", Function: openai.FunctionCall{Name: c.name, Arguments: c.arguments}})
			}
		}
		if text != "" || len(calls) == 0 {
			r.Output = append(r.Output, messageItem(newMessageID(), text, "completed"))
		}
		for _, tc := range calls {
			r.Output = append(r.Output, functionCallItem(newCallID(), tc.ID, tc.Function.Name, tc.Function.Arguments, "completed"))
		}
	}
	r.finish(finishReason, c.Usage.responsesUsage())
	return r, nil
}

// InputItems are output items as the input items of a following request
// (previous_response_id): messages with output_text parts and function
// calls; reasoning is left out, as the bridge cannot send it back.
func InputItems(output []OutputItem) []Item {
	items := make([]Item, 0, len(output))
	for _, o := range output {
		switch o.Type {
		case "message":
			parts := make([]Part, len(o.Content))
			for i, p := range o.Content {
				parts[i] = Part{Type: "output_text", Text: p.Text}
			}
			items = append(items, Item{Type: "message", Role: "assistant", Content: ItemContent{Parts: parts, IsParts: true}})
		case "function_call":
			items = append(items, Item{Type: "function_call", CallID: o.CallID, Name: o.Name, Arguments: *o.Arguments})
		}
	}
	return items
}
