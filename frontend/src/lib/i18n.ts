// Every string the UI shows, in English and Swedish. The language comes from
// Config().language, or from navigator.language when that is "auto".
// Placeholders are {name}; plural pairs end in .one / .other (see tn).

import { derived, writable } from 'svelte/store'

const en = {
  'app.title': 'Switchboard',
  'app.noBridge': 'Not connected to the desktop app.',
  'app.starting': 'Starting…',
  'app.resuming': 'Signing you back in…',

  'login.heading': 'Sign in',
  'login.server': 'Server address',
  'login.serverLocked': 'Set by your administrator; it cannot be changed here.',
  'login.login': 'Login',
  'login.password': 'Password',
  'login.remember': 'Remember me',
  'login.submit': 'Sign in',
  'login.busy': 'Signing in…',
  'login.failed': 'Signing in failed.',
  'login.sessionEnded': 'Your sign-in is no longer valid. Please sign in again.',

  'error.bad_credentials': 'Wrong login or password.',
  'error.no_bridge': 'Not connected to the desktop app.',
  'error.offline': 'Not connected to the server.',
  'error.queue_empty': 'Nobody is waiting in the queue.',
  'error.transfer_pending': 'A transfer of this chat is already pending.',
  'error.no_agent': 'Nobody else is Present to take this chat.',
  'error.listen_only': 'You cannot write in this chat.',
  'error.rate_limited': 'Too many actions at once. Try again in a moment.',

  'conn.label': 'Connection',
  'conn.connected': 'Connected',
  'conn.connecting': 'Connecting…',
  'conn.reconnecting': 'Reconnecting…',
  'conn.reconnectingIn': 'Reconnecting in {seconds} s',
  'conn.offline': 'Offline',
  'conn.auth_failed': 'Signed out',

  'status.label': 'My status',
  'status.present': 'Present',
  'status.away': 'Away',
  'status.offline': 'Offline',
  'status.switchHint': 'Present: listed for transfers and told of new chats. Away: no alerts.',

  'account.menu': 'Settings',
  'account.sound': 'Sound on',
  'account.language': 'Language',
  'account.dashboard': 'Open dashboard',
  'account.signOut': 'Sign out',
  'account.quit': 'Quit',
  'lang.auto': 'Automatic',
  'lang.en': 'English',
  'lang.sv': 'Svenska',

  'list.heading': 'Chats',
  'list.empty': 'No chats yet.',
  'list.ended': 'Ended',
  'list.listening': 'Listening',
  'list.offered': 'Transfer to you',
  'list.unread.one': '{count} unread message',
  'list.unread.other': '{count} unread messages',
  'mark.toMe': 'Transferred to you, waiting for your answer',
  'mark.fromMe': 'Transfer waiting to be accepted',

  'queue.heading': 'Queue',
  'queue.count.one': '{count} waiting',
  'queue.count.other': '{count} waiting',
  'queue.next': 'Get next in queue',
  'queue.empty': 'Nobody is waiting.',
  'queue.waited': 'waiting {duration}',
  'queue.open': 'Open the chat with {name}',
  'queue.warned': 'Waiting too long',

  'chat.none': 'Select a chat in the list, or get the next one in the queue.',
  'chat.loading': 'Loading the chat…',
  'chat.log': 'Conversation',
  'chat.menu': 'Chat menu',
  'chat.system': 'System',
  'chat.staff': 'Only agents see this',
  'chat.typing': '{who} is typing…',
  'chat.ended': 'This chat has ended.',
  'chat.readonly': 'You cannot write in this chat.',
  'chat.question': 'Question',
  'chat.loadMore': 'Loading earlier lines…',

  'menu.transfer': 'Transfer',
  'menu.request': 'Create request',
  'menu.end': 'End chat',
  'menu.close': 'Close window',
  'menu.takeover': 'Take over',

  'outbox.sending': 'Sending…',
  'outbox.failed': 'Not sent: {error}',
  'outbox.retry': 'Retry',
  'outbox.dismiss': 'Dismiss',

  'composer.label': 'Message',
  'composer.placeholder': 'Write a reply. Enter sends, Shift+Enter adds a line.',
  'composer.send': 'Send',
  'composer.replies': 'Replies',
  'composer.templates': 'Reply templates',
  'composer.quick': 'My quick replies',
  'composer.quickEmpty': 'No quick replies yet.',
  'composer.quickAdd': 'Save the text as a quick reply',
  'composer.quickRemove': 'Remove quick reply',
  'composer.quickFull': 'You have {max} quick replies. Remove one to save another.',
  'composer.quickTooLong': 'A quick reply can be at most {max} characters.',
  'composer.quickNotSaved': 'Quick replies not saved: {reason}',
  'composer.quickLoading': 'Loading your quick replies…',
  'composer.insert': 'Insert',

  'transfer.title': 'Transfer chat',
  'transfer.to': 'Transfer to',
  'transfer.load.one': '{count} chat',
  'transfer.load.other': '{count} chats',
  'transfer.queue': "The channel's queue",
  'transfer.queueHint': 'The least loaded Present agent is asked.',
  'transfer.none': 'No other agent is Present.',
  'transfer.loading': 'Finding agents…',
  'transfer.comment': 'Comment (optional)',
  'transfer.submit': 'Transfer',
  'transfer.pending': 'Waiting for {name} to accept',
  'transfer.left': '{time} left',
  'transfer.cancel': 'Cancel transfer',
  'transfer.offer': '{name} asks you to take over this chat.',
  'transfer.offerFor': '{by} asks you to take over this chat from {from}.',
  'transfer.comment.shown': 'Comment: {comment}',
  'transfer.accept': 'Accept transfer',
  'transfer.reject': 'Reject transfer',
  'transfer.queueName': 'the queue',

  'listen.banner': 'Listening — you cannot write in this chat',

  'request.title': 'Create request',
  'request.titleLabel': 'Title',
  'request.log': 'Chat log',
  'request.submit': 'Create request',
  'request.created': 'Request #{number} created. Its line is in your text box.',

  'end.title': 'End chat',
  'end.confirm': 'End the chat with {name}?',
  'end.submit': 'End chat',

  'common.cancel': 'Cancel',
  'common.close': 'Close',
  'common.dismiss': 'Dismiss',
  'common.visitor': 'Visitor',
  'common.failed': 'That did not work. Try again.',

  'toast.offer': '{by} asks you to take over the chat with {visitor}.',
  'toast.accepted': '{to} accepted the chat with {visitor}. You are now listening.',
  'toast.accepted.mine': 'You now own the chat with {visitor}.',
  'toast.rejected': '{to} rejected the chat with {visitor}. It stays with you.',
  'toast.rejected.mine': 'You rejected the chat with {visitor}.',
  'toast.cancelled': '{by} cancelled the transfer of the chat with {visitor}.',
  'toast.cancelled.mine': 'You cancelled the transfer of the chat with {visitor}.',
  'toast.expired': 'The transfer of the chat with {visitor} to {to} expired unanswered.',
  'toast.voided': 'The transfer of the chat with {visitor} was voided.',
  'toast.voided.reason': 'The transfer of the chat with {visitor} was voided: {reason}.',
  'toast.takeover.mine': 'You took over the chat with {visitor}.',
  'toast.takeover.fromMe': '{by} took over your chat with {visitor}. You are now listening.',
  'toast.takeover.other': '{by} took over the chat with {visitor}.',
  'toast.warning.waiting': '{visitor} has waited {duration} in {channel}.',
  'toast.warning.manager': 'Nobody has answered {visitor} in {channel} for {duration}.',

  'dashboard.heading': 'Dashboard',
  'dashboard.placeholder': 'Waiting for live figures…',
  'dashboard.overall': 'All channels',
  'dashboard.waiting': 'Visitors waiting',
  'dashboard.longest': 'Longest wait',
  'dashboard.present': 'Agents Present',
  'dashboard.active': 'Active chats',
  'dashboard.today': 'Chats today',
  'dashboard.agents': 'Agents',
  'dashboard.sessions': 'Ongoing chats',
  'dashboard.noSessions': 'No ongoing chats.',
  'dashboard.listen': 'Listen',
  'dashboard.queued': 'In queue',
  'dashboard.signedInAs': 'Signed in as {name}',
  'dashboard.forbidden': 'The dashboard needs the listen or manage permission in a channel.',
  'dashboard.channels': 'Channels',
  'dashboard.showChannel': 'Show this channel in the chart',
  'dashboard.show': 'Open',
  'dashboard.transfersToday': 'Transfers today',
  'outcome.accepted': 'accepted',
  'outcome.rejected': 'rejected',
  'outcome.cancelled': 'cancelled',
  'outcome.expired': 'expired',
  'outcome.voided': 'voided',
  'dashboard.chart.title': 'Queue over the last hour: {channel}',
  'dashboard.chart.waiting': 'Visitors waiting (up to {count})',
  'dashboard.chart.longest': 'Longest wait (up to {duration})',
  'dashboard.chart.summary': '{channel}, last hour: up to {count} visitors waiting at once, longest wait {duration}.',
  'dashboard.chart.empty': 'No queue figures for the last hour yet.',
  'dashboard.chart.start': '60 min ago',
  'dashboard.chart.end': 'now',
  'dashboard.col.agent': 'Agent',
  'dashboard.col.status': 'Status',
  'dashboard.col.load': 'Active chats',
  'dashboard.col.pendingTo': 'Transfers to them',
  'dashboard.col.pendingFrom': 'Transfers from them',
  'dashboard.noAgents': 'No agents answer in your channels.',
  'dashboard.col.channel': 'Channel',
  'dashboard.col.visitor': 'Visitor',
  'dashboard.col.owner': 'Agent',
  'dashboard.col.time': 'Waiting / active',
  'dashboard.col.lastVisitor': 'Visitor last wrote',
  'dashboard.col.transfer': 'Transfer',
  'dashboard.col.actions': 'Actions',
  'dashboard.time.waiting': 'waiting {duration}',
  'dashboard.time.active': 'active {duration}',
  'dashboard.ago': '{duration} ago',
  'dashboard.transfer.pending': 'Pending',
  'dashboard.warning.waiting': 'Waiting too long',
  'dashboard.warning.manager': 'Unanswered: manager warning',
  'dashboard.takeOver': 'Take over',
  'dashboard.transfer': 'Transfer',
  'dashboard.listening': 'Listening',
  'dashboard.listenTitle': 'Chat with {visitor}',
  'dashboard.listenSilent': 'Listening silently: {owner} and the visitor are not told, and you cannot write.',
  'dashboard.leave': 'Leave',
  'dashboard.owned': 'This chat is yours now. Answer here, or continue in the main window.',
  'dashboard.otherOwner': '{owner} has the chat now.',
  'dashboard.ended': 'This chat has ended.',
  'dashboard.confirmTitle': 'Take over this chat?',
  'dashboard.confirmText': 'You become the owner of the chat with {visitor} at once. {owner} is moved to listen mode and told.',
  'dashboard.recent': 'Recent transfers',
  'dashboard.recentNone': 'No transfers yet.',
  'dashboard.takeoverKind': 'take-over',
  'dashboard.toQueue': 'the queue',
  'login.dashboard': 'Sign in to open the dashboard.',
  'login.handoverEnded': 'The sign-in handed over by the main window has ended. Sign in again here, or close this window and open the dashboard from the main window.',
}

export type MessageKey = keyof typeof en

const sv: Record<MessageKey, string> = {
  'app.title': 'Switchboard',
  'app.noBridge': 'Inte ansluten till skrivbordsappen.',
  'app.starting': 'Startar…',
  'app.resuming': 'Loggar in dig igen…',

  'login.heading': 'Logga in',
  'login.server': 'Serveradress',
  'login.serverLocked': 'Inställd av din administratör; den kan inte ändras här.',
  'login.login': 'Användarnamn',
  'login.password': 'Lösenord',
  'login.remember': 'Kom ihåg mig',
  'login.submit': 'Logga in',
  'login.busy': 'Loggar in…',
  'login.failed': 'Inloggningen misslyckades.',
  'login.sessionEnded': 'Din inloggning gäller inte längre. Logga in igen.',

  'error.bad_credentials': 'Fel användarnamn eller lösenord.',
  'error.no_bridge': 'Inte ansluten till skrivbordsappen.',
  'error.offline': 'Inte ansluten till servern.',
  'error.queue_empty': 'Ingen väntar i kön.',
  'error.transfer_pending': 'En överföring av chatten väntar redan.',
  'error.no_agent': 'Ingen annan är Närvarande och kan ta chatten.',
  'error.listen_only': 'Du kan inte skriva i den här chatten.',
  'error.rate_limited': 'För många åtgärder på en gång. Försök igen om en stund.',

  'conn.label': 'Anslutning',
  'conn.connected': 'Ansluten',
  'conn.connecting': 'Ansluter…',
  'conn.reconnecting': 'Återansluter…',
  'conn.reconnectingIn': 'Återansluter om {seconds} s',
  'conn.offline': 'Frånkopplad',
  'conn.auth_failed': 'Utloggad',

  'status.label': 'Min status',
  'status.present': 'Närvarande',
  'status.away': 'Borta',
  'status.offline': 'Frånkopplad',
  'status.switchHint': 'Närvarande: visas för överföringar och får varningar om nya chattar. Borta: inga varningar.',

  'account.menu': 'Inställningar',
  'account.sound': 'Ljud på',
  'account.language': 'Språk',
  'account.dashboard': 'Öppna dashboard',
  'account.signOut': 'Logga ut',
  'account.quit': 'Avsluta',
  'lang.auto': 'Automatiskt',
  'lang.en': 'English',
  'lang.sv': 'Svenska',

  'list.heading': 'Chattar',
  'list.empty': 'Inga chattar ännu.',
  'list.ended': 'Avslutad',
  'list.listening': 'Lyssnar',
  'list.offered': 'Överförd till dig',
  'list.unread.one': '{count} oläst meddelande',
  'list.unread.other': '{count} olästa meddelanden',
  'mark.toMe': 'Överförd till dig, väntar på ditt svar',
  'mark.fromMe': 'Överföring väntar på att accepteras',

  'queue.heading': 'Kö',
  'queue.count.one': '{count} väntar',
  'queue.count.other': '{count} väntar',
  'queue.next': 'Hämta nästa i kön',
  'queue.empty': 'Ingen väntar.',
  'queue.waited': 'väntat {duration}',
  'queue.open': 'Öppna chatten med {name}',
  'queue.warned': 'Har väntat för länge',

  'chat.none': 'Välj en chatt i listan, eller hämta nästa i kön.',
  'chat.loading': 'Hämtar chatten…',
  'chat.log': 'Samtal',
  'chat.menu': 'Chattmeny',
  'chat.system': 'System',
  'chat.staff': 'Syns bara för agenter',
  'chat.typing': '{who} skriver…',
  'chat.ended': 'Chatten är avslutad.',
  'chat.readonly': 'Du kan inte skriva i den här chatten.',
  'chat.question': 'Fråga',
  'chat.loadMore': 'Hämtar tidigare rader…',

  'menu.transfer': 'Överför',
  'menu.request': 'Skapa ärende',
  'menu.end': 'Avsluta chatt',
  'menu.close': 'Stäng fönster',
  'menu.takeover': 'Ta över',

  'outbox.sending': 'Skickar…',
  'outbox.failed': 'Inte skickat: {error}',
  'outbox.retry': 'Försök igen',
  'outbox.dismiss': 'Ta bort',

  'composer.label': 'Meddelande',
  'composer.placeholder': 'Skriv ett svar. Enter skickar, Skift+Enter ger ny rad.',
  'composer.send': 'Skicka',
  'composer.replies': 'Svar',
  'composer.templates': 'Svarsmallar',
  'composer.quick': 'Mina snabbsvar',
  'composer.quickEmpty': 'Inga snabbsvar ännu.',
  'composer.quickAdd': 'Spara texten som snabbsvar',
  'composer.quickRemove': 'Ta bort snabbsvar',
  'composer.quickFull': 'Du har {max} snabbsvar. Ta bort ett för att spara ett nytt.',
  'composer.quickTooLong': 'Ett snabbsvar får vara högst {max} tecken.',
  'composer.quickNotSaved': 'Snabbsvaren sparades inte: {reason}',
  'composer.quickLoading': 'Hämtar dina snabbsvar…',
  'composer.insert': 'Infoga',

  'transfer.title': 'Överför chatt',
  'transfer.to': 'Överför till',
  'transfer.load.one': '{count} chatt',
  'transfer.load.other': '{count} chattar',
  'transfer.queue': 'Kanalens kö',
  'transfer.queueHint': 'Den minst belastade Närvarande agenten tillfrågas.',
  'transfer.none': 'Ingen annan agent är Närvarande.',
  'transfer.loading': 'Söker agenter…',
  'transfer.comment': 'Kommentar (valfri)',
  'transfer.submit': 'Överför',
  'transfer.pending': 'Väntar på att {name} ska acceptera',
  'transfer.left': '{time} kvar',
  'transfer.cancel': 'Avbryt överföring',
  'transfer.offer': '{name} ber dig ta över den här chatten.',
  'transfer.offerFor': '{by} ber dig ta över den här chatten från {from}.',
  'transfer.comment.shown': 'Kommentar: {comment}',
  'transfer.accept': 'Acceptera överföring',
  'transfer.reject': 'Avvisa överföring',
  'transfer.queueName': 'kön',

  'listen.banner': 'Lyssnar — du kan inte skriva i den här chatten',

  'request.title': 'Skapa ärende',
  'request.titleLabel': 'Rubrik',
  'request.log': 'Chattlogg',
  'request.submit': 'Skapa ärende',
  'request.created': 'Ärende #{number} skapat. Raden finns i din textruta.',

  'end.title': 'Avsluta chatt',
  'end.confirm': 'Avsluta chatten med {name}?',
  'end.submit': 'Avsluta chatt',

  'common.cancel': 'Avbryt',
  'common.close': 'Stäng',
  'common.dismiss': 'Stäng',
  'common.visitor': 'Besökare',
  'common.failed': 'Det gick inte. Försök igen.',

  'toast.offer': '{by} ber dig ta över chatten med {visitor}.',
  'toast.accepted': '{to} accepterade chatten med {visitor}. Du lyssnar nu.',
  'toast.accepted.mine': 'Chatten med {visitor} är nu din.',
  'toast.rejected': '{to} avvisade chatten med {visitor}. Den är kvar hos dig.',
  'toast.rejected.mine': 'Du avvisade chatten med {visitor}.',
  'toast.cancelled': '{by} avbröt överföringen av chatten med {visitor}.',
  'toast.cancelled.mine': 'Du avbröt överföringen av chatten med {visitor}.',
  'toast.expired': 'Överföringen av chatten med {visitor} till {to} besvarades inte i tid.',
  'toast.voided': 'Överföringen av chatten med {visitor} upphävdes.',
  'toast.voided.reason': 'Överföringen av chatten med {visitor} upphävdes: {reason}.',
  'toast.takeover.mine': 'Du tog över chatten med {visitor}.',
  'toast.takeover.fromMe': '{by} tog över din chatt med {visitor}. Du lyssnar nu.',
  'toast.takeover.other': '{by} tog över chatten med {visitor}.',
  'toast.warning.waiting': '{visitor} har väntat {duration} i {channel}.',
  'toast.warning.manager': 'Ingen har svarat {visitor} i {channel} på {duration}.',

  'dashboard.heading': 'Dashboard',
  'dashboard.placeholder': 'Väntar på aktuella siffror…',
  'dashboard.overall': 'Alla kanaler',
  'dashboard.waiting': 'Väntande besökare',
  'dashboard.longest': 'Längsta väntetid',
  'dashboard.present': 'Närvarande agenter',
  'dashboard.active': 'Aktiva chattar',
  'dashboard.today': 'Chattar i dag',
  'dashboard.agents': 'Agenter',
  'dashboard.sessions': 'Pågående chattar',
  'dashboard.noSessions': 'Inga pågående chattar.',
  'dashboard.listen': 'Lyssna',
  'dashboard.queued': 'I kö',
  'dashboard.signedInAs': 'Inloggad som {name}',
  'dashboard.forbidden': 'Dashboarden kräver behörigheten lyssna eller chef i någon kanal.',
  'dashboard.channels': 'Kanaler',
  'dashboard.showChannel': 'Visa den här kanalen i diagrammet',
  'dashboard.show': 'Öppna',
  'dashboard.transfersToday': 'Överföringar i dag',
  'outcome.accepted': 'accepterade',
  'outcome.rejected': 'avvisade',
  'outcome.cancelled': 'avbrutna',
  'outcome.expired': 'utgångna',
  'outcome.voided': 'makulerade',
  'dashboard.chart.title': 'Kön under den senaste timmen: {channel}',
  'dashboard.chart.waiting': 'Väntande besökare (upp till {count})',
  'dashboard.chart.longest': 'Längsta väntetid (upp till {duration})',
  'dashboard.chart.summary': '{channel}, senaste timmen: upp till {count} besökare väntade samtidigt, längsta väntetid {duration}.',
  'dashboard.chart.empty': 'Inga kösiffror för den senaste timmen ännu.',
  'dashboard.chart.start': 'för 60 min sedan',
  'dashboard.chart.end': 'nu',
  'dashboard.col.agent': 'Agent',
  'dashboard.col.status': 'Status',
  'dashboard.col.load': 'Aktiva chattar',
  'dashboard.col.pendingTo': 'Överföringar till',
  'dashboard.col.pendingFrom': 'Överföringar från',
  'dashboard.noAgents': 'Inga agenter svarar i dina kanaler.',
  'dashboard.col.channel': 'Kanal',
  'dashboard.col.visitor': 'Besökare',
  'dashboard.col.owner': 'Agent',
  'dashboard.col.time': 'Väntar / aktiv',
  'dashboard.col.lastVisitor': 'Besökaren skrev senast',
  'dashboard.col.transfer': 'Överföring',
  'dashboard.col.actions': 'Åtgärder',
  'dashboard.time.waiting': 'väntar {duration}',
  'dashboard.time.active': 'aktiv {duration}',
  'dashboard.ago': 'för {duration} sedan',
  'dashboard.transfer.pending': 'Väntar',
  'dashboard.warning.waiting': 'Väntar för länge',
  'dashboard.warning.manager': 'Obesvarad: chefsvarning',
  'dashboard.takeOver': 'Ta över',
  'dashboard.transfer': 'Överför',
  'dashboard.listening': 'Lyssnar',
  'dashboard.listenTitle': 'Chatt med {visitor}',
  'dashboard.listenSilent': 'Du lyssnar tyst: {owner} och besökaren får inte veta det, och du kan inte skriva.',
  'dashboard.leave': 'Lämna',
  'dashboard.owned': 'Chatten är din nu. Svara här eller fortsätt i huvudfönstret.',
  'dashboard.otherOwner': '{owner} har chatten nu.',
  'dashboard.ended': 'Chatten har avslutats.',
  'dashboard.confirmTitle': 'Ta över den här chatten?',
  'dashboard.confirmText': 'Du blir ägare till chatten med {visitor} direkt. {owner} flyttas till lyssnarläge och får veta det.',
  'dashboard.recent': 'Senaste överföringarna',
  'dashboard.recentNone': 'Inga överföringar ännu.',
  'dashboard.takeoverKind': 'övertagande',
  'dashboard.toQueue': 'kön',
  'login.dashboard': 'Logga in för att öppna dashboarden.',
  'login.handoverEnded': 'Inloggningen som huvudfönstret lämnade över har upphört. Logga in igen här, eller stäng fönstret och öppna dashboarden från huvudfönstret.',
}

export const messages = { en, sv } as const
export type Lang = keyof typeof messages
export type Params = Record<string, string | number>

/** The UI language for a setting: "en", "sv", or "auto" (then the system's). */
export function resolveLanguage(setting: string | undefined, systemLanguage: string | undefined): Lang {
  if (setting === 'en' || setting === 'sv') return setting
  const sys = (systemLanguage ?? '').toLowerCase()
  return sys === 'sv' || sys.startsWith('sv-') ? 'sv' : 'en'
}

export function translate(lang: Lang, key: MessageKey, params: Params = {}): string {
  const text = messages[lang][key] ?? en[key] ?? key
  return text.replace(/\{(\w+)\}/g, (m, name: string) => (name in params ? String(params[name]) : m))
}

/** Keys that have .one and .other forms. */
export type PluralKey = {
  [K in MessageKey]: K extends `${infer P}.one` ? (`${P}.other` extends MessageKey ? P : never) : never
}[MessageKey]

export function translateCount(lang: Lang, key: PluralKey, count: number, params: Params = {}): string {
  const form = (count === 1 ? `${key}.one` : `${key}.other`) as MessageKey
  return translate(lang, form, { ...params, count })
}

/** Whether a string is a known message key (error codes map to error.<code>). */
export function isKey(key: string): key is MessageKey {
  return key in en
}

export const language = writable<Lang>('en')

export type Translator = ((key: MessageKey, params?: Params) => string) & {
  n: (key: PluralKey, count: number, params?: Params) => string
  lang: Lang
}

function translator(lang: Lang): Translator {
  const fn = ((key: MessageKey, params?: Params) => translate(lang, key, params)) as Translator
  fn.n = (key, count, params) => translateCount(lang, key, count, params)
  fn.lang = lang
  return fn
}

/** $t('key', {param}) in components; $t.n('key', count) for plurals. */
export const t = derived(language, translator)

/** The human text of a failed bound call: a known code's own wording, else the relay's message. */
export function errorMessage(lang: Lang, err: { code?: string; message?: string } | undefined): string {
  if (!err) return translate(lang, 'common.failed')
  const key = `error.${err.code}`
  if (isKey(key)) return translate(lang, key)
  return err.message || err.code || translate(lang, 'common.failed')
}
