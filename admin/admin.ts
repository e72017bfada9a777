/** The console page's script (`/admin/admin.js`): defines `<admin-console>` and its pages. */
import "./admin-console.ts";
