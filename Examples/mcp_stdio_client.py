"""Drives a stdio MCP server the way a gateway does, with the official MCP Python SDK's stdio client.

usage: mcp_stdio_client.py [--call TOOL ARGUMENTS_JSON] COMMAND [ARG...]

Starts COMMAND (for example `corral run -- mcp-server-time`), performs initialize, lists the tools, calls
get_current_time when the server has it (or TOOL with ARGUMENTS_JSON: its text goes in "call"), then closes the
session (stdin EOF, as the SDK shuts servers down). Prints one JSON object with what it saw and exits 0, or exits
1 with the error.
"""
import asyncio
import json
import os
import sys
import time

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client


async def main(command, args, call=None):
    started = time.monotonic()
    # The SDK passes only a small allowlist of variables (HOME, PATH, ...): exactly what a gateway gives corral.
    server = StdioServerParameters(command=command, args=args)
    async with stdio_client(server) as (read, write):
        async with ClientSession(read, write) as session:
            init = await session.initialize()
            tools = await session.list_tools()
            report = {
                "server": init.server_info.name,
                "version": init.server_info.version,
                "tools": sorted(tool.name for tool in tools.tools),
                "initialize_seconds": round(time.monotonic() - started, 2),
            }
            if call:
                result = await session.call_tool(call[0], json.loads(call[1]))
                report["call_error"] = bool(result.is_error)
                report["call"] = "\n".join(part.text for part in result.content if hasattr(part, "text"))
            elif "get_current_time" in report["tools"]:
                result = await session.call_tool("get_current_time", {"timezone": "UTC"})
                report["get_current_time"] = result.content[0].text if result.content else None
    print(json.dumps(report), flush=True)


if __name__ == "__main__":
    arguments, call = sys.argv[1:], None
    if arguments[:1] == ["--call"] and len(arguments) >= 3:
        call, arguments = arguments[1:3], arguments[3:]
    if not arguments:
        sys.exit(__doc__)
    try:
        asyncio.run(main(arguments[0], arguments[1:], call))
    except Exception as error:  # report any failure in one line for the caller
        print(f"mcp_stdio_client: {type(error).__name__}: {error}", file=sys.stderr)
        sys.exit(1)
