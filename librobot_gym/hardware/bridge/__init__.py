"""The robot bridge: any driver served over a websocket from the robot's PC (`server`), the
`bridge:ws://HOST:PORT` driver that reaches it (`client`), and their wire format (`protocol`)."""
