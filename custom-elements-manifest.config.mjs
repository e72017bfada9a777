// Generates dist/custom-elements.json from the widgets' JSDoc (@attr, @csspart, @cssprop, @fires, @slot).
export default {
  globs: ["widgets/*/*.ts"],
  exclude: ["widgets/**/*.test.ts", "widgets/**/*.styles.ts", "widgets/widgets.ts"],
  outdir: "dist",
  litelement: true,
};
