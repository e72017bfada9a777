import { seconds } from "../../internal/counted-text.ts";
import type { CounterStrings } from "../click-counter.ts";

export default (locale: string): CounterStrings => {
  const inSeconds = seconds(locale);
  return {
    add: "+1",
    offline: "オフライン：送信待ちのクリックが多すぎます。",
    badName: "このカウンターには、1～64文字の英字・数字・ピリオド・ハイフン・アンダースコアからなる名前が必要です（ピリオドのみは不可）。",
    badEndpoint: (reason) => `エンドポイントが正しくありません：${reason}`,
    unavailable: (reason) => `カウンターを利用できません：${reason}`,
    busy: (reason) => `カウンターが混み合っています：${reason}`,
    closed: (code) => `切断されました（${code}）`,
    tryLater: "しばらくしてからもう一度お試しください",
    tooMany: (count) => `クリックが多すぎます。${inSeconds(count)}後にもう一度お試しください。`,
    watching: (count) => `≈ ${count} 人が視聴中`,
    watchingSpoken: (count) => `約 ${count} 人が視聴中（概算）`,
  };
};
