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
}

func perChannel(c *call) string { return c.arg("channel") }

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
