import { list, seconds } from "../../internal/counted-text.ts";
import type { ChatStrings } from "../edge-chat.ts";

export default (locale: string): ChatStrings => {
  const inSeconds = seconds(locale);
  const number = new Intl.NumberFormat(locale);
  const names = list(locale);
  return {
    nameLegend: "チャットに参加",
    nameLabel: "名前",
    join: "参加",
    changeName: "名前を変更",
    messageLabel: "メッセージ",
    messagesLabel: "メッセージ一覧",
    placeholder: "メッセージを入力…（Enterで送信、Shift+Enterで改行）",
    send: "送信",
    loadOlder: "以前のメッセージを読み込む",
    loading: "読み込み中…",
    olderLater: (count) => `一度に読み込むページが多すぎます。${inSeconds(count)}後にもう一度お試しください。`,
    beginning: "ここがルームの始まりです。",
    empty: "まだメッセージはありません。あいさつしてみましょう！",
    // Japanese has one plural form.
    people: (count) => `${number.format(count)}人が参加中`,
    you: "あなた",
    verified: "認証済み",
    newMessages: (count) => `新着メッセージ${number.format(count)}件`,
    typing: (who) => (who.length <= 3 ? `${names(who)}が入力中…` : "複数の人が入力中…"),
    pending: "送信中…",
    sent: "送信済み",
    waiting: (count) => `送信が速すぎます。${inSeconds(count)}後に再送します`,
    refused: (reason) => `送信できませんでした：${reason}`,
    stale: "1週間以上前に書かれたメッセージです",
    retry: "再試行",
    discard: "破棄",
    queued: (count) => `オフライン：接続が戻ると${number.format(count)}件のメッセージを送信します。`,
    reconnecting: "再接続中…",
    unavailable: (reason) => `チャットを利用できません：${reason}`,
    busy: (reason) => `チャットが混み合っています：${reason}`,
    closed: (code) => `切断されました（${code}）`,
    tryLater: "しばらくしてからもう一度お試しください",
    tooLong: (max) => `メッセージは${number.format(max)}文字以内で入力してください。`,
    badName: (max) => `名前は1～${number.format(max)}文字で入力してください。`,
    badRoom: "このチャットには、1～64文字の英字・数字・ピリオド・ハイフン・アンダースコアからなるルーム名が必要です（ピリオドのみは不可）。",
    badEndpoint: (reason) => `エンドポイントが正しくありません：${reason}`,
  };
};
