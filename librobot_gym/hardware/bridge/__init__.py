"""The robot bridge: any driver served over a websocket from the robot's PC (`server`), the
`bridge:ws://HOST:PORT` driver that reaches it (`client`), their wire format (`protocol`), the
robot's limits the server holds every request to (`guard`) and how driver errors cross it
(`errors`)."""
