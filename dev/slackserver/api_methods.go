package slackserver

// apiMethods names every Web API method the server implements, in one table.
var apiMethods = map[string]method{
	"apps.connections.open":         {fn: (*Server).connectionsOpen, appToken: true},
	"auth.test":                     {fn: (*Server).authTest},
	"chat.postMessage":              {fn: (*Server).postMessage, limitKey: perChannel},
	"chat.update":                   {fn: (*Server).chatUpdate},
	"chat.postEphemeral":            {fn: (*Server).postEphemeral},
	"chat.delete":                   {fn: (*Server).chatDelete},
	"files.getUploadURLExternal":    {fn: (*Server).getUploadURL},
	"files.completeUploadExternal":  {fn: (*Server).completeUpload},
	"conversations.create":          {fn: (*Server).conversationsCreate},
	"conversations.invite":          {fn: (*Server).conversationsInvite},
	"conversations.setTopic":        {fn: (*Server).conversationsSetTopic},
	"conversations.info":            {fn: (*Server).conversationsInfo},
	"conversations.members":         {fn: (*Server).conversationsMembers},
	"conversations.history":         {fn: (*Server).conversationsHistory},
	"conversations.replies":         {fn: (*Server).conversationsReplies},
	"conversations.join":            {fn: (*Server).conversationsJoin},
	"conversations.canvases.create": {fn: (*Server).channelCanvasCreate},
	"canvases.create":               {fn: (*Server).canvasCreate},
	"canvases.edit":                 {fn: (*Server).canvasEdit},
	"pins.add":                      {fn: (*Server).pinsAdd},
	"pins.list":                     {fn: (*Server).pinsList},
	"reactions.add":                 {fn: (*Server).reactionsAdd},
	"reactions.get":                 {fn: (*Server).reactionsGet},
	"users.info":                    {fn: (*Server).usersInfo},
	"usergroups.users.list":         {fn: (*Server).usergroupsUsersList},
	"bookmarks.add":                 {fn: (*Server).bookmarksAdd},
	"views.open":                    {fn: (*Server).viewsOpen},
}

// perChannel keys a limit on the channel the call resolves to, so a channel named by
// ID, "#name" or name (and a DM by its ID or its user's ID) shares one bucket.
func perChannel(s *Server, c *call) string {
	ref := c.arg("channel")
	s.mu.Lock()
	defer s.mu.Unlock()
	ch := s.ws.channelByRef(ref)
	if ch == nil && s.ws.users[ref] != nil {
		return "im/" + ref // the DM postMessage opens: keyed by its user until then and after
	}
	switch {
	case ch == nil:
		return "unknown/" + ref
	case ch.IM:
		for _, m := range ch.Members {
			if m != s.opts.BotUserID {
				return "im/" + m
			}
		}
	}
	return ch.ID
}

// connectionsOpen answers apps.connections.open with a one-time WebSocket URL on this host.
func (s *Server) connectionsOpen(c *call) (map[string]any, error) {
	ticket := s.hub.newTicket()
	return map[string]any{"url": "ws://" + c.host + "/link/?ticket=" + ticket + "&app_id=" + s.opts.AppID}, nil
}

// authTest answers auth.test for the bot token.
func (s *Server) authTest(c *call) (map[string]any, error) {
	return map[string]any{
		"url": "http://" + c.host + "/", "team": s.opts.TeamName, "user": s.opts.BotName,
		"team_id": s.opts.TeamID, "user_id": s.opts.BotUserID, "bot_id": botID(s.opts),
		"is_enterprise_install": false,
	}, nil
}

func botID(o Options) string { return "B" + o.BotUserID[1:] }
