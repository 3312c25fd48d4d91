// connect-share-panel: built from frontend/src by frontend/build.mjs; do not edit.
var bt=Object.defineProperty;var wt=(r,t,e)=>t in r?bt(r,t,{enumerable:!0,configurable:!0,writable:!0,value:e}):r[t]=e;var _=(r,t,e)=>wt(r,typeof t!="symbol"?t+"":t,e);var j=globalThis,D=j.ShadowRoot&&(j.ShadyCSS===void 0||j.ShadyCSS.nativeShadow)&&"adoptedStyleSheets"in Document.prototype&&"replace"in CSSStyleSheet.prototype,z=Symbol(),it=new WeakMap,C=class{constructor(t,e,s){if(this._$cssResult$=!0,s!==z)throw Error("CSSResult is not constructable. Use `unsafeCSS` or `css` instead.");this.cssText=t,this.t=e}get styleSheet(){let t=this.o,e=this.t;if(D&&t===void 0){let s=e!==void 0&&e.length===1;s&&(t=it.get(e)),t===void 0&&((this.o=t=new CSSStyleSheet).replaceSync(this.cssText),s&&it.set(e,t))}return t}toString(){return this.cssText}},rt=r=>new C(typeof r=="string"?r:r+"",void 0,z),S=(r,...t)=>{let e=r.length===1?r[0]:t.reduce((s,i,a)=>s+(o=>{if(o._$cssResult$===!0)return o.cssText;if(typeof o=="number")return o;throw Error("Value passed to 'css' function must be a 'css' function result: "+o+". Use 'unsafeCSS' to pass non-literal values, but take care to ensure page security.")})(i)+r[a+1],r[0]);return new C(e,r,z)},at=(r,t)=>{if(D)r.adoptedStyleSheets=t.map(e=>e instanceof CSSStyleSheet?e:e.styleSheet);else for(let e of t){let s=document.createElement("style"),i=j.litNonce;i!==void 0&&s.setAttribute("nonce",i),s.textContent=e.cssText,r.appendChild(s)}},F=D?r=>r:r=>r instanceof CSSStyleSheet?(t=>{let e="";for(let s of t.cssRules)e+=s.cssText;return rt(e)})(r):r;var{is:xt,defineProperty:At,getOwnPropertyDescriptor:St,getOwnPropertyNames:kt,getOwnPropertySymbols:Et,getPrototypeOf:Ct}=Object,I=globalThis,ot=I.trustedTypes,qt=ot?ot.emptyScript:"",Pt=I.reactiveElementPolyfillSupport,q=(r,t)=>r,W={toAttribute(r,t){switch(t){case Boolean:r=r?qt:null;break;case Object:case Array:r=r==null?r:JSON.stringify(r)}return r},fromAttribute(r,t){let e=r;switch(t){case Boolean:e=r!==null;break;case Number:e=r===null?null:Number(r);break;case Object:case Array:try{e=JSON.parse(r)}catch{e=null}}return e}},ct=(r,t)=>!xt(r,t),nt={attribute:!0,type:String,converter:W,reflect:!1,useDefault:!1,hasChanged:ct};Symbol.metadata??=Symbol("metadata"),I.litPropertyMetadata??=new WeakMap;var $=class extends HTMLElement{static addInitializer(t){this._$Ei(),(this.l??=[]).push(t)}static get observedAttributes(){return this.finalize(),this._$Eh&&[...this._$Eh.keys()]}static createProperty(t,e=nt){if(e.state&&(e.attribute=!1),this._$Ei(),this.prototype.hasOwnProperty(t)&&((e=Object.create(e)).wrapped=!0),this.elementProperties.set(t,e),!e.noAccessor){let s=Symbol(),i=this.getPropertyDescriptor(t,s,e);i!==void 0&&At(this.prototype,t,i)}}static getPropertyDescriptor(t,e,s){let{get:i,set:a}=St(this.prototype,t)??{get(){return this[e]},set(o){this[e]=o}};return{get:i,set(o){let h=i?.call(this);a?.call(this,o),this.requestUpdate(t,h,s)},configurable:!0,enumerable:!0}}static getPropertyOptions(t){return this.elementProperties.get(t)??nt}static _$Ei(){if(this.hasOwnProperty(q("elementProperties")))return;let t=Ct(this);t.finalize(),t.l!==void 0&&(this.l=[...t.l]),this.elementProperties=new Map(t.elementProperties)}static finalize(){if(this.hasOwnProperty(q("finalized")))return;if(this.finalized=!0,this._$Ei(),this.hasOwnProperty(q("properties"))){let e=this.properties,s=[...kt(e),...Et(e)];for(let i of s)this.createProperty(i,e[i])}let t=this[Symbol.metadata];if(t!==null){let e=litPropertyMetadata.get(t);if(e!==void 0)for(let[s,i]of e)this.elementProperties.set(s,i)}this._$Eh=new Map;for(let[e,s]of this.elementProperties){let i=this._$Eu(e,s);i!==void 0&&this._$Eh.set(i,e)}this.elementStyles=this.finalizeStyles(this.styles)}static finalizeStyles(t){let e=[];if(Array.isArray(t)){let s=new Set(t.flat(1/0).reverse());for(let i of s)e.unshift(F(i))}else t!==void 0&&e.push(F(t));return e}static _$Eu(t,e){let s=e.attribute;return s===!1?void 0:typeof s=="string"?s:typeof t=="string"?t.toLowerCase():void 0}constructor(){super(),this._$Ep=void 0,this.isUpdatePending=!1,this.hasUpdated=!1,this._$Em=null,this._$Ev()}_$Ev(){this._$ES=new Promise(t=>this.enableUpdating=t),this._$AL=new Map,this._$E_(),this.requestUpdate(),this.constructor.l?.forEach(t=>t(this))}addController(t){(this._$EO??=new Set).add(t),this.renderRoot!==void 0&&this.isConnected&&t.hostConnected?.()}removeController(t){this._$EO?.delete(t)}_$E_(){let t=new Map,e=this.constructor.elementProperties;for(let s of e.keys())this.hasOwnProperty(s)&&(t.set(s,this[s]),delete this[s]);t.size>0&&(this._$Ep=t)}createRenderRoot(){let t=this.shadowRoot??this.attachShadow(this.constructor.shadowRootOptions);return at(t,this.constructor.elementStyles),t}connectedCallback(){this.renderRoot??=this.createRenderRoot(),this.enableUpdating(!0),this._$EO?.forEach(t=>t.hostConnected?.())}enableUpdating(t){}disconnectedCallback(){this._$EO?.forEach(t=>t.hostDisconnected?.())}attributeChangedCallback(t,e,s){this._$AK(t,s)}_$ET(t,e){let s=this.constructor.elementProperties.get(t),i=this.constructor._$Eu(t,s);if(i!==void 0&&s.reflect===!0){let a=(s.converter?.toAttribute!==void 0?s.converter:W).toAttribute(e,s.type);this._$Em=t,a==null?this.removeAttribute(i):this.setAttribute(i,a),this._$Em=null}}_$AK(t,e){let s=this.constructor,i=s._$Eh.get(t);if(i!==void 0&&this._$Em!==i){let a=s.getPropertyOptions(i),o=typeof a.converter=="function"?{fromAttribute:a.converter}:a.converter?.fromAttribute!==void 0?a.converter:W;this._$Em=i;let h=o.fromAttribute(e,a.type);this[i]=h??this._$Ej?.get(i)??h,this._$Em=null}}requestUpdate(t,e,s,i=!1,a){if(t!==void 0){let o=this.constructor;if(i===!1&&(a=this[t]),s??=o.getPropertyOptions(t),!((s.hasChanged??ct)(a,e)||s.useDefault&&s.reflect&&a===this._$Ej?.get(t)&&!this.hasAttribute(o._$Eu(t,s))))return;this.C(t,e,s)}this.isUpdatePending===!1&&(this._$ES=this._$EP())}C(t,e,{useDefault:s,reflect:i,wrapped:a},o){s&&!(this._$Ej??=new Map).has(t)&&(this._$Ej.set(t,o??e??this[t]),a!==!0||o!==void 0)||(this._$AL.has(t)||(this.hasUpdated||s||(e=void 0),this._$AL.set(t,e)),i===!0&&this._$Em!==t&&(this._$Eq??=new Set).add(t))}async _$EP(){this.isUpdatePending=!0;try{await this._$ES}catch(e){Promise.reject(e)}let t=this.scheduleUpdate();return t!=null&&await t,!this.isUpdatePending}scheduleUpdate(){return this.performUpdate()}performUpdate(){if(!this.isUpdatePending)return;if(!this.hasUpdated){if(this.renderRoot??=this.createRenderRoot(),this._$Ep){for(let[i,a]of this._$Ep)this[i]=a;this._$Ep=void 0}let s=this.constructor.elementProperties;if(s.size>0)for(let[i,a]of s){let{wrapped:o}=a,h=this[i];o!==!0||this._$AL.has(i)||h===void 0||this.C(i,void 0,a,h)}}let t=!1,e=this._$AL;try{t=this.shouldUpdate(e),t?(this.willUpdate(e),this._$EO?.forEach(s=>s.hostUpdate?.()),this.update(e)):this._$EM()}catch(s){throw t=!1,this._$EM(),s}t&&this._$AE(e)}willUpdate(t){}_$AE(t){this._$EO?.forEach(e=>e.hostUpdated?.()),this.hasUpdated||(this.hasUpdated=!0,this.firstUpdated(t)),this.updated(t)}_$EM(){this._$AL=new Map,this.isUpdatePending=!1}get updateComplete(){return this.getUpdateComplete()}getUpdateComplete(){return this._$ES}shouldUpdate(t){return!0}update(t){this._$Eq&&=this._$Eq.forEach(e=>this._$ET(e,this[e])),this._$EM()}updated(t){}firstUpdated(t){}};$.elementStyles=[],$.shadowRootOptions={mode:"open"},$[q("elementProperties")]=new Map,$[q("finalized")]=new Map,Pt?.({ReactiveElement:$}),(I.reactiveElementVersions??=[]).push("2.1.2");var G=globalThis,lt=r=>r,B=G.trustedTypes,dt=B?B.createPolicy("lit-html",{createHTML:r=>r}):void 0,gt="$lit$",y=`lit$${Math.random().toFixed(9).slice(2)}$`,$t="?"+y,Rt=`<${$t}>`,x=document,R=()=>x.createComment(""),U=r=>r===null||typeof r!="object"&&typeof r!="function",Q=Array.isArray,Ut=r=>Q(r)||typeof r?.[Symbol.iterator]=="function",V=`[ 	
\f\r]`,P=/<(?:(!--|\/[^a-zA-Z])|(\/?[a-zA-Z][^>\s]*)|(\/?$))/g,ht=/-->/g,pt=/>/g,b=RegExp(`>|${V}(?:([^\\s"'>=/]+)(${V}*=${V}*(?:[^ 	
\f\r"'\`<>=]|("|')|))|$)`,"g"),ut=/'/g,_t=/"/g,ft=/^(?:script|style|textarea|title)$/i,tt=r=>(t,...e)=>({_$litType$:r,strings:t,values:e}),n=tt(1),Bt=tt(2),zt=tt(3),A=Symbol.for("lit-noChange"),c=Symbol.for("lit-nothing"),mt=new WeakMap,w=x.createTreeWalker(x,129);function vt(r,t){if(!Q(r)||!r.hasOwnProperty("raw"))throw Error("invalid template strings array");return dt!==void 0?dt.createHTML(t):t}var Tt=(r,t)=>{let e=r.length-1,s=[],i,a=t===2?"<svg>":t===3?"<math>":"",o=P;for(let h=0;h<e;h++){let l=r[h],p,u,d=-1,g=0;for(;g<l.length&&(o.lastIndex=g,u=o.exec(l),u!==null);)g=o.lastIndex,o===P?u[1]==="!--"?o=ht:u[1]!==void 0?o=pt:u[2]!==void 0?(ft.test(u[2])&&(i=RegExp("</"+u[2],"g")),o=b):u[3]!==void 0&&(o=b):o===b?u[0]===">"?(o=i??P,d=-1):u[1]===void 0?d=-2:(d=o.lastIndex-u[2].length,p=u[1],o=u[3]===void 0?b:u[3]==='"'?_t:ut):o===_t||o===ut?o=b:o===ht||o===pt?o=P:(o=b,i=void 0);let v=o===b&&r[h+1].startsWith("/>")?" ":"";a+=o===P?l+Rt:d>=0?(s.push(p),l.slice(0,d)+gt+l.slice(d)+y+v):l+y+(d===-2?h:v)}return[vt(r,a+(r[e]||"<?>")+(t===2?"</svg>":t===3?"</math>":"")),s]},T=class r{constructor({strings:t,_$litType$:e},s){let i;this.parts=[];let a=0,o=0,h=t.length-1,l=this.parts,[p,u]=Tt(t,e);if(this.el=r.createElement(p,s),w.currentNode=this.el.content,e===2||e===3){let d=this.el.content.firstChild;d.replaceWith(...d.childNodes)}for(;(i=w.nextNode())!==null&&l.length<h;){if(i.nodeType===1){if(i.hasAttributes())for(let d of i.getAttributeNames())if(d.endsWith(gt)){let g=u[o++],v=i.getAttribute(d).split(y),L=/([.?@])?(.*)/.exec(g);l.push({type:1,index:a,name:L[2],strings:v,ctor:L[1]==="."?J:L[1]==="?"?Y:L[1]==="@"?X:E}),i.removeAttribute(d)}else d.startsWith(y)&&(l.push({type:6,index:a}),i.removeAttribute(d));if(ft.test(i.tagName)){let d=i.textContent.split(y),g=d.length-1;if(g>0){i.textContent=B?B.emptyScript:"";for(let v=0;v<g;v++)i.append(d[v],R()),w.nextNode(),l.push({type:2,index:++a});i.append(d[g],R())}}}else if(i.nodeType===8)if(i.data===$t)l.push({type:2,index:a});else{let d=-1;for(;(d=i.data.indexOf(y,d+1))!==-1;)l.push({type:7,index:a}),d+=y.length-1}a++}}static createElement(t,e){let s=x.createElement("template");return s.innerHTML=t,s}};function k(r,t,e=r,s){if(t===A)return t;let i=s!==void 0?e._$Co?.[s]:e._$Cl,a=U(t)?void 0:t._$litDirective$;return i?.constructor!==a&&(i?._$AO?.(!1),a===void 0?i=void 0:(i=new a(r),i._$AT(r,e,s)),s!==void 0?(e._$Co??=[])[s]=i:e._$Cl=i),i!==void 0&&(t=k(r,i._$AS(r,t.values),i,s)),t}var K=class{constructor(t,e){this._$AV=[],this._$AN=void 0,this._$AD=t,this._$AM=e}get parentNode(){return this._$AM.parentNode}get _$AU(){return this._$AM._$AU}u(t){let{el:{content:e},parts:s}=this._$AD,i=(t?.creationScope??x).importNode(e,!0);w.currentNode=i;let a=w.nextNode(),o=0,h=0,l=s[0];for(;l!==void 0;){if(o===l.index){let p;l.type===2?p=new N(a,a.nextSibling,this,t):l.type===1?p=new l.ctor(a,l.name,l.strings,this,t):l.type===6&&(p=new Z(a,this,t)),this._$AV.push(p),l=s[++h]}o!==l?.index&&(a=w.nextNode(),o++)}return w.currentNode=x,i}p(t){let e=0;for(let s of this._$AV)s!==void 0&&(s.strings!==void 0?(s._$AI(t,s,e),e+=s.strings.length-2):s._$AI(t[e])),e++}},N=class r{get _$AU(){return this._$AM?._$AU??this._$Cv}constructor(t,e,s,i){this.type=2,this._$AH=c,this._$AN=void 0,this._$AA=t,this._$AB=e,this._$AM=s,this.options=i,this._$Cv=i?.isConnected??!0}get parentNode(){let t=this._$AA.parentNode,e=this._$AM;return e!==void 0&&t?.nodeType===11&&(t=e.parentNode),t}get startNode(){return this._$AA}get endNode(){return this._$AB}_$AI(t,e=this){t=k(this,t,e),U(t)?t===c||t==null||t===""?(this._$AH!==c&&this._$AR(),this._$AH=c):t!==this._$AH&&t!==A&&this._(t):t._$litType$!==void 0?this.$(t):t.nodeType!==void 0?this.T(t):Ut(t)?this.k(t):this._(t)}O(t){return this._$AA.parentNode.insertBefore(t,this._$AB)}T(t){this._$AH!==t&&(this._$AR(),this._$AH=this.O(t))}_(t){this._$AH!==c&&U(this._$AH)?this._$AA.nextSibling.data=t:this.T(x.createTextNode(t)),this._$AH=t}$(t){let{values:e,_$litType$:s}=t,i=typeof s=="number"?this._$AC(t):(s.el===void 0&&(s.el=T.createElement(vt(s.h,s.h[0]),this.options)),s);if(this._$AH?._$AD===i)this._$AH.p(e);else{let a=new K(i,this),o=a.u(this.options);a.p(e),this.T(o),this._$AH=a}}_$AC(t){let e=mt.get(t.strings);return e===void 0&&mt.set(t.strings,e=new T(t)),e}k(t){Q(this._$AH)||(this._$AH=[],this._$AR());let e=this._$AH,s,i=0;for(let a of t)i===e.length?e.push(s=new r(this.O(R()),this.O(R()),this,this.options)):s=e[i],s._$AI(a),i++;i<e.length&&(this._$AR(s&&s._$AB.nextSibling,i),e.length=i)}_$AR(t=this._$AA.nextSibling,e){for(this._$AP?.(!1,!0,e);t!==this._$AB;){let s=lt(t).nextSibling;lt(t).remove(),t=s}}setConnected(t){this._$AM===void 0&&(this._$Cv=t,this._$AP?.(t))}},E=class{get tagName(){return this.element.tagName}get _$AU(){return this._$AM._$AU}constructor(t,e,s,i,a){this.type=1,this._$AH=c,this._$AN=void 0,this.element=t,this.name=e,this._$AM=i,this.options=a,s.length>2||s[0]!==""||s[1]!==""?(this._$AH=Array(s.length-1).fill(new String),this.strings=s):this._$AH=c}_$AI(t,e=this,s,i){let a=this.strings,o=!1;if(a===void 0)t=k(this,t,e,0),o=!U(t)||t!==this._$AH&&t!==A,o&&(this._$AH=t);else{let h=t,l,p;for(t=a[0],l=0;l<a.length-1;l++)p=k(this,h[s+l],e,l),p===A&&(p=this._$AH[l]),o||=!U(p)||p!==this._$AH[l],p===c?t=c:t!==c&&(t+=(p??"")+a[l+1]),this._$AH[l]=p}o&&!i&&this.j(t)}j(t){t===c?this.element.removeAttribute(this.name):this.element.setAttribute(this.name,t??"")}},J=class extends E{constructor(){super(...arguments),this.type=3}j(t){this.element[this.name]=t===c?void 0:t}},Y=class extends E{constructor(){super(...arguments),this.type=4}j(t){this.element.toggleAttribute(this.name,!!t&&t!==c)}},X=class extends E{constructor(t,e,s,i,a){super(t,e,s,i,a),this.type=5}_$AI(t,e=this){if((t=k(this,t,e,0)??c)===A)return;let s=this._$AH,i=t===c&&s!==c||t.capture!==s.capture||t.once!==s.once||t.passive!==s.passive,a=t!==c&&(s===c||i);i&&this.element.removeEventListener(this.name,this,s),a&&this.element.addEventListener(this.name,this,t),this._$AH=t}handleEvent(t){typeof this._$AH=="function"?this._$AH.call(this.options?.host??this.element,t):this._$AH.handleEvent(t)}},Z=class{constructor(t,e,s){this.element=t,this.type=6,this._$AN=void 0,this._$AM=e,this.options=s}get _$AU(){return this._$AM._$AU}_$AI(t){k(this,t)}};var Nt=G.litHtmlPolyfillSupport;Nt?.(T,N),(G.litHtmlVersions??=[]).push("3.3.3");var yt=(r,t,e)=>{let s=e?.renderBefore??t,i=s._$litPart$;if(i===void 0){let a=e?.renderBefore??null;s._$litPart$=i=new N(t.insertBefore(R(),a),a,void 0,e??{})}return i._$AI(r),i};var et=globalThis,f=class extends ${constructor(){super(...arguments),this.renderOptions={host:this},this._$Do=void 0}createRenderRoot(){let t=super.createRenderRoot();return this.renderOptions.renderBefore??=t.firstChild,t}update(t){let e=this.render();this.hasUpdated||(this.renderOptions.isConnected=this.isConnected),super.update(t),this._$Do=yt(e,this.renderRoot,this.renderOptions)}connectedCallback(){super.connectedCallback(),this._$Do?.setConnected(!0)}disconnectedCallback(){super.disconnectedCallback(),this._$Do?.setConnected(!1)}render(){return A}};f._$litElement$=!0,f.finalized=!0,et.litElementHydrateSupport?.({LitElement:f});var Mt=et.litElementPolyfillSupport;Mt?.({LitElement:f});(et.litElementVersions??=[]).push("4.2.2");var M=(r,t,e={})=>r.callWS({type:`connect_share/${t}`,...e}),m=r=>r?new Date(r).toLocaleString():"",st=S`
  :host {
    color: var(--primary-text-color);
    font-family: var(--paper-font-body1_-_font-family, var(--ha-font-family-body, sans-serif));
  }
  .card {
    background: var(--ha-card-background, var(--card-background-color, #fff));
    border-radius: var(--ha-card-border-radius, 12px);
    border: 1px solid var(--divider-color);
    padding: 16px;
    margin-bottom: 16px;
  }
  h2,
  h3 {
    margin: 0 0 8px;
    font-weight: 500;
  }
  .muted {
    color: var(--secondary-text-color);
  }
  .error {
    color: var(--error-color, #db4437);
  }
  .ok {
    color: var(--success-color, #43a047);
  }
  button {
    font: inherit;
    cursor: pointer;
    border-radius: 6px;
    border: 1px solid var(--divider-color);
    background: var(--secondary-background-color, transparent);
    color: var(--primary-text-color);
    padding: 6px 12px;
    margin: 2px;
  }
  button.primary {
    background: var(--primary-color);
    color: var(--text-primary-color, #fff);
    border-color: var(--primary-color);
  }
  button.danger {
    background: var(--error-color, #db4437);
    color: var(--text-primary-color, #fff);
    border-color: var(--error-color, #db4437);
  }
  button:disabled {
    opacity: 0.5;
    cursor: default;
  }
  input,
  select,
  textarea {
    font: inherit;
    color: var(--primary-text-color);
    background: var(--secondary-background-color, transparent);
    border: 1px solid var(--divider-color);
    border-radius: 4px;
    padding: 4px 6px;
  }
  table {
    border-collapse: collapse;
    width: 100%;
  }
  th,
  td {
    text-align: left;
    padding: 4px 6px;
    border-bottom: 1px solid var(--divider-color);
    vertical-align: top;
  }
`;var Ot=[["now","Now"],["requests","Requests"],["history","History"],["cameras","Cameras"]],O=class extends f{constructor(){super(),this._tab="now",this._filters={page:0,page_size:25},this._footage={},this._error=""}connectedCallback(){super.connectedCallback();let t=new URLSearchParams(window.location.search);t.get("request")&&(this._focus=t.get("request"),this._tab="requests")}disconnectedCallback(){super.disconnectedCallback(),this._unsub&&(this._unsub.then(t=>t()).catch(()=>{}),this._unsub=void 0)}updated(t){t.has("hass")&&this.hass&&!this._unsub&&(this._unsub=this.hass.connection.subscribeMessage(e=>{this._overview=e,this._tab==="requests"&&this._loadRequests()},{type:"connect_share/subscribe"}),this._loadTab())}async _call(t,e){this._error="";try{return await M(this.hass,t,e)}catch(s){throw this._error=s.message||String(s),s}}_select(t){this._tab=t,this._loadTab()}_loadTab(){this._tab==="requests"&&this._loadRequests(),this._tab==="history"&&this._loadHistory(),this._tab==="cameras"&&this._loadCameras()}async _loadRequests(){this._requests=await this._call("requests")}async _loadHistory(){let t={};for(let[e,s]of Object.entries(this._filters))s!==""&&s!==void 0&&(t[e]=s);this._history=await this._call("history",t)}async _loadCameras(){this._cameras=await this._call("cameras")}render(){return n`
      <div class="toolbar">
        <ha-menu-button .hass=${this.hass} .narrow=${this.narrow}></ha-menu-button>
        <div class="title">Connect Share</div>
      </div>
      <nav>
        ${Ot.map(([t,e])=>n`<button class="tab ${this._tab===t?"active":""}" data-tab=${t} @click=${()=>this._select(t)}>
              ${e}${t==="requests"&&this._pendingCount()?n` <span class="badge">${this._pendingCount()}</span>`:c}
            </button>`)}
      </nav>
      <main>
        ${this._error?n`<div class="card error" role="alert">${this._error}</div>`:c}
        ${this._tab==="now"?this._renderNow():c}
        ${this._tab==="requests"?this._renderRequests():c}
        ${this._tab==="history"?this._renderHistory():c}
        ${this._tab==="cameras"?this._renderCameras():c}
      </main>
    `}_entries(){return this._overview?.entries||[]}_pendingCount(){return this._entries().reduce((t,e)=>t+e.pending.length,0)}_renderNow(){let t=this._entries();return this._overview?t.length?t.map(e=>{let s=e.paused?e.paused_forever?"Sharing is paused until you resume it.":`Sharing is paused until ${m(e.paused_until)}.`:"Sharing follows your rules.";return n`
        <div class="card">
          <h2>Who is watching now</h2>
          <p class="muted">${e.title} · hub ${e.connected?"connected":"not connected"}</p>
          ${e.sessions.length?n`<table class="sessions">
                <tr><th>Camera</th><th>Officer</th><th>Agency</th><th>Incident</th><th>Purpose</th><th>Since</th><th>Until</th><th></th></tr>
                ${e.sessions.map(i=>n`<tr data-session=${i.session_id}>
                    <td>${i.camera_name}${i.scope==="snapshot"?" (snapshot)":""}</td>
                    <td>${i.officer} <span class="muted">badge ${i.badge}</span></td>
                    <td>${i.agency||""}</td>
                    <td>${i.case_number} <span class="muted">${i.incident_id}</span></td>
                    <td>${i.purpose||i.offense_type||""}</td>
                    <td>${m(i.since)}</td>
                    <td>${m(i.until_iso)}</td>
                    <td><button class="danger stop" @click=${()=>this._stop(e,i)}>Stop</button></td>
                  </tr>`)}
              </table>`:n`<p class="nobody">Nobody is watching your cameras.</p>`}
          <div class="row">
            <button class="danger stop-all" @click=${()=>this._stopAll(e)}>Stop all and revoke every access</button>
          </div>
        </div>
        <div class="card">
          <h2>Pause sharing</h2>
          <p class="pause-status ${e.paused?"error":"ok"}">${s}</p>
          <div class="row">
            <button class="pause-hour" @click=${()=>this._pause(e,{duration_s:3600})}>Pause 1 hour</button>
            <button class="pause-tomorrow" @click=${()=>this._pause(e,{until:this._tomorrow()})}>Until tomorrow 7:00</button>
            <input type="datetime-local" class="pause-custom" />
            <button @click=${()=>this._pauseCustom(e)}>Pause until then</button>
            <button @click=${()=>this._pause(e,{})}>Until I resume</button>
            ${e.paused?n`<button class="primary resume" @click=${()=>this._call("resume",{entry_id:e.entry_id})}>Resume</button>`:c}
          </div>
        </div>
      `}):n`<div class="card muted">Connect Share is not set up.</div>`:n`<div class="card muted">Loading…</div>`}_tomorrow(){let t=new Date;return t.setDate(t.getDate()+1),t.setHours(7,0,0,0),t.getTime()/1e3}async _stop(t,e){await this._call("session/stop",{entry_id:t.entry_id,session_id:e.session_id})}async _stopAll(t){confirm("Stop every live view and revoke all access given so far?")&&await this._call("stop_all",{entry_id:t.entry_id})}async _pause(t,e){await this._call("pause",{entry_id:t.entry_id,...e})}async _pauseCustom(t){let e=this.renderRoot.querySelector(".pause-custom").value;if(!e){this._error="Choose a date and time first.";return}await this._pause(t,{until:new Date(e).getTime()/1e3})}_renderRequests(){let t=this._requests;return t?n`
      <div class="card">
        <h2>Requests waiting for you</h2>
        ${t.pending.length?c:n`<p class="muted none-waiting">No request is waiting.</p>`}
        ${t.pending.map(e=>this._renderRequest(e))}
      </div>
      ${t.footage_requests.length?n`<div class="card">
            <h2>Footage requests you approved</h2>
            <p class="muted">Pick the recorded events to share. Masks are applied before anything leaves.</p>
            ${t.footage_requests.map(e=>this._renderFootage(e))}
          </div>`:c}
    `:n`<div class="card muted">Loading…</div>`}_renderRequest(t){let e=this._focus===t.request_id;return n`
      <div class="request ${e?"focused":""}" data-request=${t.request_id}>
        <h3>${t.officer} <span class="muted">badge ${t.badge}${t.agency?` · ${t.agency}`:""}</span></h3>
        <dl>
          <dt>Incident</dt><dd>${t.case_number} · ${t.incident_type}</dd>
          <dt>Reason</dt><dd>${t.reason}</dd>
          ${t.purpose?n`<dt>Purpose</dt><dd>${t.purpose}</dd>`:c}
          ${t.legal_basis?n`<dt>Legal basis</dt><dd>${t.legal_basis}</dd>`:c}
          <dt>Asks for</dt><dd>${t.scope==="clip"?"recorded footage":t.scope==="live"?"live view":t.scope}</dd>
          ${t.window_start_iso?n`<dt>Time window</dt><dd>${m(t.window_start_iso)} – ${m(t.window_end_iso)}</dd>`:c}
          <dt>Area</dt><dd>${t.area.radius_m} m around ${t.area.lat.toFixed(4)}, ${t.area.lon.toFixed(4)}</dd>
          <dt>Received</dt><dd>${m(t.received)}</dd>
        </dl>
        ${t.footage.length?n`<p class="muted">Your events in the window:</p><ul>${t.footage.map(s=>n`<li>${s}</li>`)}</ul>`:c}
        <table>
          ${t.cameras.map(s=>n`<tr data-camera=${s}>
              <td>${t.camera_names[s]||s}</td>
              <td>
                <button class="primary approve" @click=${()=>this._approve(t,[s])}>Approve</button>
              </td>
            </tr>`)}
        </table>
        <div class="row">
          ${t.cameras.length>1?n`<button class="primary approve-all" @click=${()=>this._approve(t)}>Approve all cameras</button>`:c}
          <button class="decline" @click=${()=>this._decline(t)}>Decline</button>
        </div>
        <p class="muted small">Approving some cameras declines the others. A decline tells the hub nothing; the request lapses there.</p>
      </div>
    `}async _approve(t,e){await this._call("request/approve",{entry_id:t.entry_id,request_id:t.request_id,...e?{cameras:e}:{}}),await this._loadRequests()}async _decline(t){await this._call("request/decline",{entry_id:t.entry_id,request_id:t.request_id}),await this._loadRequests()}_renderFootage(t){let e=this._footage[t.request_id]||{};return n`
      <div class="request" data-footage=${t.request_id}>
        <h3>${t.case_number} · ${t.officer}</h3>
        <p class="muted">${m(t.window_start_iso)} – ${m(t.window_end_iso)} · cameras ${t.cameras.join(", ")}</p>
        ${e.events?e.events.length?n`<table>
                ${e.events.map(s=>n`<tr>
                    <td><input type="checkbox" .checked=${!!e.chosen?.[s.event_id]} @change=${i=>this._choose(t,s,i.target.checked)} /></td>
                    <td>${s.camera_name}</td>
                    <td>${m(s.start_iso)}</td>
                    <td>${s.best_label}</td>
                    <td>${s.has_snapshot?n`<button @click=${()=>this._preview(t,s)}>Preview</button>`:c}</td>
                  </tr>`)}
              </table>
              ${e.preview?n`<img class="preview" src=${e.preview} alt="masked preview" />`:c}
              <button class="primary" @click=${()=>this._share(t)}>Share chosen</button>
              ${e.shared?n`<p class="ok">Shared ${e.shared} file(s).</p>`:c}`:n`<p class="muted">No recorded events in the window.</p>`:n`<button @click=${()=>this._loadFootage(t)}>Show my events in the window</button>`}
      </div>
    `}_setFootage(t,e){this._footage={...this._footage,[t]:{...this._footage[t]||{},...e}}}async _loadFootage(t){let e=await this._call("footage/events",{entry_id:t.entry_id,request_id:t.request_id});this._setFootage(t.request_id,{events:e.events,chosen:{}})}_choose(t,e,s){let i={...this._footage[t.request_id]?.chosen||{}};s?i[e.event_id]=e.camera_id:delete i[e.event_id],this._setFootage(t.request_id,{chosen:i})}async _preview(t,e){let s=await this._call("footage/preview",{entry_id:t.entry_id,request_id:t.request_id,event_id:e.event_id});this._setFootage(t.request_id,{preview:`data:${s.content_type};base64,${s.image}`})}async _share(t){let e=this._footage[t.request_id]?.chosen||{},s={};for(let[a,o]of Object.entries(e))(s[o]||=[]).push(a);let i=0;for(let[a,o]of Object.entries(s)){let h=await this._call("footage/share",{entry_id:t.entry_id,request_id:t.request_id,camera:a,event_ids:o});i+=h.evidence.length}this._setFootage(t.request_id,{shared:i})}_renderHistory(){let t=this._history,e=this._filters,s=t?Math.max(1,Math.ceil(t.total/t.page_size)):1;return n`
      <div class="card">
        <h2>Access history</h2>
        ${t?n`<p class="chain">
              Local audit log:
              ${t.chain.ok?n`<span class="ok">chain verifies (${t.chain.entries} entries)</span>`:n`<span class="error">does not verify: ${t.chain.problems.join("; ")||"cannot be written"}</span>`}
              · Hub's log:
              ${t.crosscheck.status==="ok"?n`<span class="ok">agrees (checked ${m(t.crosscheck.checked)})</span>`:t.crosscheck.status==="mismatch"?n`<span class="error">disagrees: ${t.crosscheck.summary}</span>`:n`<span class="muted">not checked yet</span>`}
            </p>`:c}
        <div class="row filters">
          <select class="f-camera" @change=${i=>this._filter("camera",i.target.value)}>
            <option value="">All cameras</option>
            ${Object.entries(t?.cameras||{}).map(([i,a])=>n`<option value=${i} ?selected=${e.camera===i}>${a}</option>`)}
          </select>
          <input class="f-officer" placeholder="Officer or badge" .value=${e.officer||""} @change=${i=>this._filter("officer",i.target.value)} />
          <input class="f-incident" placeholder="Incident or case" .value=${e.incident||""} @change=${i=>this._filter("incident",i.target.value)} />
          <input type="date" class="f-from" .value=${e.date_from||""} @change=${i=>this._filter("date_from",i.target.value)} />
          <input type="date" class="f-to" .value=${e.date_to||""} @change=${i=>this._filter("date_to",i.target.value)} />
          <button class="csv" @click=${()=>this._csv()}>Export CSV</button>
        </div>
        ${t?n`<table class="history">
                <tr><th>Time</th><th>What</th><th>Camera</th><th>Officer</th><th>Incident</th><th>Reason</th></tr>
                ${t.rows.map(i=>n`<tr data-action=${i.action} title=${JSON.stringify(i.detail)}>
                    <td>${m(i.time)}</td>
                    <td>${i.action.replaceAll("_"," ")}</td>
                    <td>${i.camera}</td>
                    <td>${i.officer}${i.badge?n` <span class="muted">${i.badge}</span>`:c}</td>
                    <td>${i.case_number||i.incident_id}</td>
                    <td>${typeof i.reason=="string"?i.reason:""}</td>
                  </tr>`)}
              </table>
              <div class="row">
                <button ?disabled=${t.page===0} @click=${()=>this._page(-1)}>Newer</button>
                <span class="muted">page ${t.page+1} of ${s} · ${t.total} entries</span>
                <button ?disabled=${t.page+1>=s} @click=${()=>this._page(1)}>Older</button>
              </div>`:n`<p class="muted">Loading…</p>`}
      </div>
    `}_filter(t,e){this._filters={...this._filters,[t]:e,page:0},this._loadHistory()}_page(t){this._filters={...this._filters,page:Math.max(0,this._filters.page+t)},this._loadHistory()}async _csv(){let t={};for(let i of["camera","officer","incident","date_from","date_to"])this._filters[i]&&(t[i]=this._filters[i]);let e=await this._call("history/csv",t),s=document.createElement("a");s.href=URL.createObjectURL(new Blob([e.csv],{type:"text/csv"})),s.download=e.filename,s.click(),URL.revokeObjectURL(s.href)}_renderCameras(){let t=this._cameras;return t?n`
      <div class="card">
        <h2>Cameras</h2>
        <div class="row">
          ${t.cameras.map(e=>n`<button class="cam ${this._camera?.camera===e.camera?"primary":""}" data-camera=${e.camera} @click=${()=>this._openCamera(e)}>${e.name}</button>`)}
        </div>
      </div>
      ${this._camera?n`<connect-share-camera-editor .hass=${this.hass} .camera=${this._camera} .modes=${t.modes} .incidentTypes=${t.incident_types} .entryId=${t.entry_id} @saved=${()=>this._loadCameras()}></connect-share-camera-editor>`:c}
    `:n`<div class="card muted">Loading…</div>`}_openCamera(t){this._camera=t}};_(O,"properties",{hass:{attribute:!1},narrow:{type:Boolean},route:{attribute:!1},panel:{attribute:!1},_tab:{state:!0},_overview:{state:!0},_requests:{state:!0},_history:{state:!0},_filters:{state:!0},_cameras:{state:!0},_camera:{state:!0},_error:{state:!0},_footage:{state:!0},_focus:{state:!0}}),_(O,"styles",[st,S`
      :host {
        display: block;
        background: var(--primary-background-color);
        min-height: 100vh;
      }
      .toolbar {
        display: flex;
        align-items: center;
        height: var(--header-height, 56px);
        padding: 0 12px;
        background: var(--app-header-background-color, var(--primary-color));
        color: var(--app-header-text-color, var(--text-primary-color, #fff));
      }
      .title {
        font-size: 20px;
        margin-left: 8px;
      }
      nav {
        display: flex;
        gap: 4px;
        padding: 8px 16px 0;
        border-bottom: 1px solid var(--divider-color);
        background: var(--card-background-color);
      }
      nav .tab {
        border: none;
        border-bottom: 3px solid transparent;
        border-radius: 0;
        background: none;
      }
      nav .tab.active {
        border-bottom-color: var(--primary-color);
        color: var(--primary-color);
      }
      .badge {
        background: var(--error-color, #db4437);
        color: var(--text-primary-color, #fff);
        border-radius: 10px;
        padding: 0 6px;
        font-size: 12px;
      }
      main {
        padding: 16px;
        max-width: 1100px;
        margin: 0 auto;
      }
      .row {
        display: flex;
        flex-wrap: wrap;
        align-items: center;
        gap: 4px;
        margin-top: 8px;
      }
      .request {
        border-top: 1px solid var(--divider-color);
        padding: 12px 0;
      }
      .request.focused {
        outline: 2px solid var(--primary-color);
        outline-offset: 4px;
        border-radius: 4px;
      }
      dl {
        display: grid;
        grid-template-columns: max-content 1fr;
        gap: 2px 12px;
        margin: 4px 0 8px;
      }
      dt {
        color: var(--secondary-text-color);
      }
      dd {
        margin: 0;
      }
      .small {
        font-size: 12px;
      }
      img.preview {
        max-width: 100%;
        display: block;
        margin: 8px 0;
      }
    `]);var H=class extends f{constructor(){super(...arguments);_(this,"_down",e=>{let s=e.target;if(s.tagName==="circle"){this._drag=[Number(s.dataset.p),Number(s.dataset.q)],this._current=this._drag[0],s.setPointerCapture?.(e.pointerId);return}this._current<0&&this._newPolygon();let i=this._polygons.map(a=>a.slice());i[this._current].push(this._point(e)),this._polygons=i});_(this,"_move",e=>{if(!this._drag)return;let[s,i]=this._drag,a=this._polygons.map(o=>o.slice());a[s][i]=this._point(e),this._polygons=a});_(this,"_up",()=>{this._drag=void 0});_(this,"_newPolygon",()=>{this._polygons=[...this._polygons,[]],this._current=this._polygons.length-1});_(this,"_deletePolygon",()=>{this._polygons=this._polygons.filter((e,s)=>s!==this._current),this._current=this._polygons.length-1});_(this,"_previewMasks",async()=>{this._error="";try{let e=await M(this.hass,"camera/snapshot",{entry_id:this.entryId,camera:this.camera.camera,masks:this._masks()});this._preview=`data:${e.content_type};base64,${e.image}`}catch(e){this._error=e.message}});_(this,"_save",async()=>{this._error="",this._message="";let e=this._settings,s={mode:e.mode,schedule:e.schedule||"",auto_incident_types:e.auto_incident_types,auto_max_distance_m:e.auto_max_distance_m,max_session_s:e.max_session_s,max_fps:e.max_fps,masks:this._masks()};try{await M(this.hass,"camera/save",{entry_id:this.entryId,camera:this.camera.camera,settings:s}),this._message="Saved. The next frame an officer receives uses these settings.",this.dispatchEvent(new CustomEvent("saved")),await this._previewMasks()}catch(i){this._error=i.message}})}willUpdate(e){if(e.has("camera")&&this.camera){let s=this.camera.settings;this._settings={...s,auto_incident_types:[...s.auto_incident_types||[]]},this._polygons=(s.masks||[]).map(i=>i.map(a=>[...a])),this._current=this._polygons.length?this._polygons.length-1:-1,this._image=void 0,this._preview=void 0,this._error="",this._message="",this._loadSnapshot()}}async _loadSnapshot(){try{let e=await M(this.hass,"camera/snapshot",{entry_id:this.entryId,camera:this.camera.camera,raw:!0});this._image=`data:${e.content_type};base64,${e.image}`}catch(e){this._error=e.message}}render(){let e=this._settings;return n`
      <div class="card">
        <h2>${this.camera.name}</h2>
        <div class="grid">
          <label>Mode
            <select class="mode" @change=${s=>this._set("mode",s.target.value)}>
              ${this.modes.map(s=>n`<option value=${s} ?selected=${e.mode===s}>${s.replaceAll("_"," ")}</option>`)}
            </select>
          </label>
          <label>Schedule <input class="schedule" placeholder="e.g. mon-fri 08:00-18:00" .value=${e.schedule||""} @change=${s=>this._set("schedule",s.target.value)} /></label>
          <label>Auto-approve within (m) <input type="number" class="distance" .value=${String(e.auto_max_distance_m??200)} @change=${s=>this._set("auto_max_distance_m",Number(s.target.value))} /></label>
          <label>Longest session (s) <input type="number" .value=${String(e.max_session_s??900)} @change=${s=>this._set("max_session_s",Number(s.target.value))} /></label>
          <label>Frames per second <input type="number" step="0.1" .value=${String(e.max_fps??2)} @change=${s=>this._set("max_fps",Number(s.target.value))} /></label>
        </div>
        <p class="muted">Auto-approve these incident types (mode "auto"):</p>
        <div class="row">
          ${this.incidentTypes.map(s=>n`<label class="chip"><input type="checkbox" .checked=${e.auto_incident_types.includes(s)} @change=${i=>this._toggleType(s,i.target.checked)} />${s.replaceAll("_"," ")}</label>`)}
        </div>
        <h3>Privacy masks</h3>
        <p class="muted">Click on the picture to add a point to the selected polygon; drag a point to move it. Masked areas are blacked out in the house before any frame leaves.</p>
        <div class="editor">
          ${this._image?n`<div class="stage">
                <img class="snapshot" src=${this._image} alt="current snapshot" @load=${()=>this.requestUpdate()} />
                <svg viewBox="0 0 1000 1000" preserveAspectRatio="none" @pointerdown=${this._down} @pointermove=${this._move} @pointerup=${this._up}>
                  ${this._polygons.map((s,i)=>n`<polygon points=${s.map(([a,o])=>`${a*1e3},${o*1e3}`).join(" ")} class=${i===this._current?"current":""}></polygon>
                      ${s.map(([a,o],h)=>n`<circle data-p=${i} data-q=${h} cx=${a*1e3} cy=${o*1e3} r="12"></circle>`)}`)}
                </svg>
              </div>`:n`<p class="muted">Loading the camera's picture…</p>`}
          ${this._preview?n`<div class="stage"><img class="masked-preview" src=${this._preview} alt="what an officer receives" /><p class="muted">What an officer would receive</p></div>`:c}
        </div>
        <div class="row">
          <button class="new-polygon" @click=${this._newPolygon}>New polygon</button>
          <button ?disabled=${this._current<0} @click=${this._deletePolygon}>Delete selected polygon</button>
          ${this._polygons.map((s,i)=>n`<button class=${i===this._current?"primary":""} @click=${()=>this._current=i}>Polygon ${i+1}</button>`)}
          <button class="preview-masks" @click=${this._previewMasks}>Preview as an officer sees it</button>
          <button class="primary save" @click=${this._save}>Save</button>
        </div>
        ${this._error?n`<p class="error" role="alert">${this._error}</p>`:c}
        ${this._message?n`<p class="ok saved">${this._message}</p>`:c}
      </div>
    `}_set(e,s){this._settings={...this._settings,[e]:s}}_toggleType(e,s){let i=this._settings.auto_incident_types.filter(a=>a!==e);s&&i.push(e),this._set("auto_incident_types",i)}_point(e){let i=this.renderRoot.querySelector("svg").getBoundingClientRect(),a=o=>Math.min(1,Math.max(0,Math.round(o*1e4)/1e4));return[a((e.clientX-i.left)/i.width),a((e.clientY-i.top)/i.height)]}_masks(){return this._polygons.filter(e=>e.length)}};_(H,"properties",{hass:{attribute:!1},camera:{attribute:!1},modes:{attribute:!1},incidentTypes:{attribute:!1},entryId:{attribute:!1},_settings:{state:!0},_polygons:{state:!0},_current:{state:!0},_image:{state:!0},_preview:{state:!0},_error:{state:!0},_message:{state:!0}}),_(H,"styles",[st,S`
      .grid {
        display: grid;
        grid-template-columns: repeat(auto-fill, minmax(220px, 1fr));
        gap: 8px;
      }
      label {
        display: flex;
        flex-direction: column;
        gap: 2px;
        color: var(--secondary-text-color);
      }
      label.chip {
        flex-direction: row;
        align-items: center;
        gap: 4px;
        color: var(--primary-text-color);
      }
      .row {
        display: flex;
        flex-wrap: wrap;
        align-items: center;
        gap: 6px;
        margin-top: 8px;
      }
      .editor {
        display: flex;
        flex-wrap: wrap;
        gap: 12px;
      }
      .stage {
        position: relative;
        display: inline-block;
        max-width: 100%;
        width: 480px;
      }
      .stage img {
        width: 100%;
        display: block;
      }
      svg {
        position: absolute;
        inset: 0;
        width: 100%;
        height: 100%;
        cursor: crosshair;
        touch-action: none;
      }
      polygon {
        fill: rgba(0, 0, 0, 0.55);
        stroke: var(--primary-color);
        stroke-width: 4;
      }
      polygon.current {
        stroke: var(--accent-color, var(--primary-color));
        stroke-width: 6;
      }
      circle {
        fill: var(--primary-color);
        stroke: var(--text-primary-color, #fff);
        stroke-width: 3;
        cursor: grab;
      }
    `]);customElements.define("connect-share-camera-editor",H);customElements.define("connect-share-panel",O);
