// Tells `cloudflare:workers` (env, exports) what this Worker's bindings and exports are.
import type { Env as EdgeEnv } from "./env.ts";

declare global {
  namespace Cloudflare {
    interface Env extends EdgeEnv {}
    interface GlobalProps {
      mainModule: typeof import("./index.ts");
      durableNamespaces: "Counter" | "RateLimiter" | "ChatRoom" | "StreamLog" | "Scheduler";
    }
  }
}
