import type { FeedStrings } from "../stream-feed.ts";

export default (): FeedStrings => ({
  itemsLabel: "フィード",
  badStream: "このフィードにはストリームのパスが必要です：1～64文字の英字・数字・ピリオド・ハイフン・アンダースコアからなる名前（ピリオドのみは不可）を1～8個、/ でつないだもの。",
  badEndpoint: (reason) => `エンドポイントが正しくありません：${reason}`,
  private: (reason) => `このフィードは非公開です：${reason}`,
  ended: "このフィードは終了しました。",
  paused: "ページが非表示の間は一時停止しています。",
  waiting: "このストリームが作成されるのを待っています…",
  empty: "まだ項目はありません。",
});
