package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"switchboard/backend/chat"
	"switchboard/backend/store"
)

// requestCmd lists and shows requests (offline messages and tickets made
// from chats) with their history, straight from the database.
func (a *app) requestCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "request", Short: "List requests and show one with its history"}
	var (
		channel, state string
		newest         bool
		limit          int
	)
	list := &cobra.Command{
		Use:   "list",
		Short: "List requests, oldest first (default: those not closed)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			f := store.RequestFilter{Channel: chat.ChannelID(channel), Newest: newest, Limit: limit}
			switch state {
			case "":
				f.States = []chat.RequestState{chat.RequestOpen, chat.RequestClaimed, chat.RequestAnswered}
			case "all":
			default:
				st, ok := chat.ParseRequestState(state)
				if !ok {
					return fmt.Errorf("state %q: use open, claimed, answered, closed or all", state)
				}
				f.States = []chat.RequestState{st}
			}
			return a.withStore(func(ctx context.Context, db store.Store, out io.Writer) error {
				reqs, err := db.ListRequests(ctx, f)
				if err != nil {
					return err
				}
				names, err := agentNames(ctx, db)
				if err != nil {
					return err
				}
				w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
				fmt.Fprintln(w, "NUMBER\tCHANNEL\tSTATE\tASSIGNEE\tCREATED\tFROM\tVISITOR\tTITLE")
				for _, r := range reqs {
					fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Number, r.Channel, r.State, nameOr(names, r.Assignee, "-"),
						r.CreatedAt.Local().Format("2006-01-02 15:04"), origin(r, names), visitor(r.Visitor), clip(r.Title, 60))
				}
				return w.Flush()
			})(cmd, args)
		},
	}
	list.Flags().StringVar(&channel, "channel", "", "only this channel")
	list.Flags().StringVar(&state, "state", "", "open, claimed, answered, closed or all (default: all but closed)")
	list.Flags().BoolVar(&newest, "newest", false, "newest first")
	list.Flags().IntVar(&limit, "limit", 0, "at most this many (0 = all)")

	show := &cobra.Command{
		Use:   "show NUMBER",
		Short: "Show a request: the visitor, the question or chat transcript, and every step of its history",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			n, err := strconv.ParseInt(args[0], 10, 64)
			if err != nil || n <= 0 {
				return fmt.Errorf("request number %q: give a number such as 1001", args[0])
			}
			return a.withStore(func(ctx context.Context, db store.Store, out io.Writer) error {
				row, err := db.Request(ctx, n)
				if errors.Is(err, store.ErrNotFound) {
					return fmt.Errorf("no request %d", n)
				}
				if err != nil {
					return err
				}
				steps, err := db.RequestSteps(ctx, n)
				if err != nil {
					return err
				}
				names, err := agentNames(ctx, db)
				if err != nil {
					return err
				}
				printRequest(out, row, steps, names)
				return nil
			})(cmd, args)
		},
	}
	cmd.AddCommand(list, show)
	return cmd
}

func printRequest(out io.Writer, r store.RequestRow, steps []chat.RequestStep, names map[chat.AgentID]string) {
	fmt.Fprintf(out, "Request %d: %s\n", r.Number, r.Title)
	fmt.Fprintf(out, "Channel:  %s\nState:    %s\nAssignee: %s\n", r.Channel, r.State, nameOr(names, r.Assignee, "-"))
	fmt.Fprintf(out, "Visitor:  %s\nFrom:     %s\nCreated:  %s\n", visitor(r.Visitor), origin(r.Request, names),
		r.CreatedAt.Local().Format(time.DateTime))
	fmt.Fprintf(out, "\n%s\n", strings.TrimRight(r.Transcript, "\n"))
	fmt.Fprintln(out, "\nHistory:")
	for _, st := range steps {
		line := fmt.Sprintf("  %s  %-11s %s", st.At.Local().Format(time.DateTime), st.Action, nameOr(names, st.By, "-"))
		switch {
		case st.Action == chat.StepAssigned:
			line += " -> " + nameOr(names, st.To, "?")
		case st.Action == chat.StepAnswered && st.Mail:
			line += " (by e-mail)"
		case st.Action == chat.StepAnswered:
			line += " (sent by hand)"
		}
		fmt.Fprintln(out, line)
		if st.Text != "" {
			fmt.Fprintf(out, "      %s\n", strings.ReplaceAll(strings.TrimRight(st.Text, "\n"), "\n", "\n      "))
		}
	}
}

func agentNames(ctx context.Context, db store.Store) (map[chat.AgentID]string, error) {
	agents, err := db.ListAgents(ctx)
	if err != nil {
		return nil, err
	}
	out := make(map[chat.AgentID]string, len(agents))
	for _, a := range agents {
		out[a.ID] = a.Login
	}
	return out, nil
}

func nameOr(names map[chat.AgentID]string, id chat.AgentID, none string) string {
	if id == 0 {
		return none
	}
	if n, ok := names[id]; ok {
		return n
	}
	return "#" + strconv.FormatInt(int64(id), 10)
}

func origin(r chat.Request, names map[chat.AgentID]string) string {
	if r.Session == "" {
		return "offline form"
	}
	return fmt.Sprintf("chat %s by %s", r.Session, nameOr(names, r.CreatedBy, "?"))
}

func visitor(v chat.Visitor) string {
	if v.Email == "" {
		return v.Name
	}
	return fmt.Sprintf("%s <%s>", v.Name, v.Email)
}

func clip(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}
